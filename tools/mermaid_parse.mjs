// Parse Mermaid source from stdin with Mermaid's own parser; exit 1 with its message when it cannot.
// Parsing needs no browser, but Mermaid sanitizes labels with DOMPurify, which has no DOM in Node:
// stand-ins that leave the text as it is let the grammar be judged (make diagram renders it for real).
import DOMPurify from "dompurify";
import mermaid from "mermaid";

DOMPurify.sanitize ??= (text) => text;
DOMPurify.addHook ??= () => {};
mermaid.initialize({ startOnLoad: false });

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
try {
  const parsed = await mermaid.parse(Buffer.concat(chunks).toString("utf8"));
  console.log(parsed.diagramType);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
