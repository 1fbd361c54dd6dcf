// A LangChain.js chain (prompt -> chat model -> string parser) traced with
// OpenInference's LangChain instrumentation and the OpenTelemetry SDK,
// exporting its spans over OTLP/HTTP (protobuf) to the collector at
// OTLP_URL. The model is the OpenAI-compatible server at OPENAI_BASE_URL.
// It answers QUESTION, then makes one call the server refuses, and prints
// a JSON line {answer, failed} on stdout.
import { NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { LangChainInstrumentation } from "@arizeai/openinference-instrumentation-langchain";
import * as CallbackManagerModule from "@langchain/core/callbacks/manager";

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ "service.name": "langchain-app" }),
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: process.env.OTLP_URL }))],
});
provider.register();
new LangChainInstrumentation().manuallyInstrument(CallbackManagerModule);

const { ChatPromptTemplate } = await import("@langchain/core/prompts");
const { StringOutputParser } = await import("@langchain/core/output_parsers");
const { ChatOpenAI } = await import("@langchain/openai");

const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  temperature: 0,
  maxRetries: 0,
  apiKey: "sk-test",
  configuration: { baseURL: process.env.OPENAI_BASE_URL },
});
const prompt = ChatPromptTemplate.fromMessages([
  ["system", "Answer in one word."],
  ["human", "{question}"],
]);
const chain = prompt.pipe(model).pipe(new StringOutputParser());
const answer = await chain.invoke({ question: process.env.QUESTION ?? "Capital of France?" });
let failed = "";
try {
  await chain.invoke({ question: "fail" });
} catch (e) {
  failed = String(e.message ?? e);
}
await provider.forceFlush();
await provider.shutdown();
console.log(JSON.stringify({ answer, failed }));
