// Turns pasted text (a script, a shot list, a bulleted list) into the shots the bulk endpoint creates.

export interface ParsedShot {
  /** The shot code written in front of the title ("SH030: …"), or null to let the server number it. */
  code: string | null;
  title: string;
  notes: string;
}

export interface ParsedScript {
  shots: ParsedShot[];
  /** Shots beyond MAX_SHOTS, left out. */
  dropped: number;
}

export const MAX_SHOTS = 200;
export const MAX_TITLE = 200;
export const MAX_NOTES = 10_000;

// "- ", "* ", "• ", "1. ", "1) " in front of a line.
const LIST_MARKER = /^(?:[-*•]|\d{1,4}[.)])\s+/;
// A code carries a digit ("SH030", "1A", "010"), so neither "INT. HOUSE - DAY" nor "Opening: …" reads as one.
const LEADING_CODE = /^([A-Za-z]{0,8}\d[A-Za-z0-9_.-]{0,11})\s*(?::|\s[-–—]\s)\s*(.*)$/;

/** Cuts a title at the last word boundary within MAX_TITLE; what is cut off goes to the notes. */
function splitLongTitle(title: string): [string, string] {
  if (title.length <= MAX_TITLE) return [title, ""];
  const space = title.lastIndexOf(" ", MAX_TITLE);
  const cut = space > 0 ? space : MAX_TITLE;
  return [title.slice(0, cut).trimEnd(), title.slice(cut).trim()];
}

function shotFrom(lines: string[]): ParsedShot {
  const first = (lines[0] ?? "").trim().replace(LIST_MARKER, "");
  const match = LEADING_CODE.exec(first);
  const code = match ? match[1]! : null;
  const [title, overflow] = splitLongTitle((match ? match[2]! : first).trim());
  const rest = lines.slice(1).map((l) => l.trim());
  const notes = [overflow, ...rest].filter(Boolean).join("\n").slice(0, MAX_NOTES);
  return { code, title, notes };
}

/**
 * One shot per non-empty line; or, when blank lines separate paragraphs, one shot per paragraph whose first line is
 * the title and the rest its notes. List markers are stripped; a leading code ("SH030: Title", "SH030 - Title")
 * becomes the shot's code. At most MAX_SHOTS.
 */
export function parseScript(text: string): ParsedScript {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const paragraphs: string[][] = [];
  let current: string[] = [];
  for (const line of lines) {
    if (line.trim()) current.push(line);
    else if (current.length) {
      paragraphs.push(current);
      current = [];
    }
  }
  if (current.length) paragraphs.push(current);
  const byParagraph = paragraphs.length > 1 && paragraphs.some((p) => p.length > 1);
  const groups = byParagraph ? paragraphs : paragraphs.flat().map((line) => [line]);
  const shots = groups.map(shotFrom);
  return { shots: shots.slice(0, MAX_SHOTS), dropped: Math.max(0, shots.length - MAX_SHOTS) };
}
