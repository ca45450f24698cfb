/** The loopback OTLP receiver in a process of its own (so decoding does not share the exporter's thread); prints its URL. */
import { startOtlpReceiver } from "@clawtower/testkit";

const receiver = await startOtlpReceiver();
process.stdout.write(`${receiver.url}\n`);
process.once("SIGTERM", () => void receiver.close().then(() => process.exit(0)));
