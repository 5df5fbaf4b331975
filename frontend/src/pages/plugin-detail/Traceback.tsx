// A folded Python traceback.


export function Traceback({ text, summary = "Traceback" }: { text: string | null | undefined; summary?: string }) {
  if (!text) return null;
  return (
    <details className="traceback">
      <summary>{summary}</summary>
      <pre>{text}</pre>
    </details>
  );
}
