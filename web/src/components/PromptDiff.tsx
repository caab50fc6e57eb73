"use client";
import { diffWords } from "@/lib/diff";

export function PromptDiff({ before, after }: { before: string; after: string }) {
  return (
    <div className="diff" data-testid="prompt-diff">
      {diffWords(before, after).map((part, i) =>
        part.kind === "same" ? (
          <span key={i}>{part.text}</span>
        ) : part.kind === "added" ? (
          <ins key={i} className="added">
            {part.text}
          </ins>
        ) : (
          <del key={i} className="removed">
            {part.text}
          </del>
        ),
      )}
    </div>
  );
}
