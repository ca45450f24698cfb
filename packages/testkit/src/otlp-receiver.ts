/**
 * A loopback OTLP/HTTP trace receiver for tests: decodes the real protobuf payloads (ExportTraceServiceRequest)
 * with protobufjs and the message definitions of opentelemetry-proto v1 (restated below: field numbers and
 * types are the wire contract; package names do not travel on the wire), and keeps every span it acknowledged.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
  ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10; repeated Event events = 11; uint32 dropped_events_count = 12; repeated Link links = 13;
  uint32 dropped_links_count = 14; Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Status { string message = 2; int32 code = 3; }
`;

const Request = protobuf.parse(PROTO, { keepCase: true }).root.lookupType("otlp.ExportTraceServiceRequest");

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

export type ReceivedSpan = {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, … */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: string;
};

type Obj = Record<string, any>;

function value(v: Obj | undefined): AttributeValue {
  if (!v) return null;
  if ("string_value" in v) return v["string_value"];
  if ("bool_value" in v) return v["bool_value"];
  if ("int_value" in v) return Number(v["int_value"]);
  if ("double_value" in v) return v["double_value"];
  if ("array_value" in v) return ((v["array_value"]["values"] ?? []) as Obj[]).map(value);
  return null;
}

function attributes(list: Obj[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv["key"], value(kv["value"])]));
}

export function decodeTraceRequest(body: Uint8Array): ReceivedSpan[] {
  const msg = Request.toObject(Request.decode(body), { longs: String, bytes: String, defaults: true, oneofs: false }) as Obj;
  const hex = (b64: string) => Buffer.from(b64, "base64").toString("hex");
  const out: ReceivedSpan[] = [];
  for (const rs of msg["resource_spans"] as Obj[]) {
    const resource = attributes(rs["resource"]?.["attributes"]);
    for (const ss of rs["scope_spans"] as Obj[]) {
      for (const s of ss["spans"] as Obj[]) {
        out.push({
          traceId: hex(s["trace_id"]),
          spanId: hex(s["span_id"]),
          parentSpanId: hex(s["parent_span_id"]),
          name: s["name"],
          kind: s["kind"],
          startNs: BigInt(s["start_time_unix_nano"]),
          endNs: BigInt(s["end_time_unix_nano"]),
          attributes: attributes(s["attributes"]),
          status: { code: s["status"]?.["code"] ?? 0, message: s["status"]?.["message"] ?? "" },
          resource,
          scope: ss["scope"]?.["name"] ?? "",
        });
      }
    }
  }
  return out;
}

export type OtlpReceiver = {
  url: string;
  spans: ReceivedSpan[];
  requests: { headers: http.IncomingHttpHeaders; spans: number }[];
  /** Answer requests with this HTTP status instead of 200 once `afterRequests` were accepted (null: accept again). */
  failWith(status: number | null, afterRequests?: number): void;
  close(): Promise<void>;
};

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver["requests"] = [];
  let failing: number | null = null;
  let failAfter = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/stats") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ spans: spans.length, requests: requests.length }));
        return;
      }
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      if (failing !== null && requests.length >= failAfter) {
        res.writeHead(failing).end();
        return;
      }
      try {
        const got = decodeTraceRequest(Buffer.concat(chunks));
        spans.push(...got);
        requests.push({ headers: req.headers, spans: got.length });
        // An empty ExportTraceServiceResponse: zero protobuf bytes.
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    failWith: (status, afterRequests = 0) => {
      failing = status;
      failAfter = afterRequests;
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
