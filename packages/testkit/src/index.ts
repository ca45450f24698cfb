export * from "./fixture-builder.ts";
export * from "./tmp.ts";
export * from "./mixed-home.ts";
export * from "./stores.ts";
export * from "./insights-home.ts";
export * from "./csv-reader.ts";
export * from "./otlp-receiver.ts";
