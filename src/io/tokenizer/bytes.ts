// GPT-2's reversible byte ↔ unicode table (openai/gpt-2 encoder.py `bytes_to_unicode`). BPE vocabularies
// store tokens as strings, so each of the 256 byte values gets a visible character: the 188 printable
// Latin-1 bytes stand for themselves, the other 68 (controls, space, NBSP, soft hyphen …) are shifted to
// U+0100… in byte order. So byte 0x20 (space) is 'Ġ' (U+0120) and 0x0A (LF) is 'Ċ' (U+010A).

function buildTable(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
  const table = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(printable(b) ? b : 256 + shifted++);
  }
  return table;
}

/** BYTE_TO_CHAR[b] is the one-character string standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildTable();

/** The inverse table: character → byte value. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The 256 byte characters in ascending code-point order, which is also GPT-2's id order for them. */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

const encoder = new TextEncoder();

/** The byte-level form of `text`: its UTF-8 bytes, one table character each (lone surrogates → U+FFFD). */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

/**
 * Appends the bytes a vocabulary token stands for. A token with a character outside the table (possible
 * only in hand-edited vocabularies) contributes its own UTF-8 bytes, as HF's ByteLevel decoder does.
 */
export function pushTokenBytes(token: string, out: number[]): void {
  const start = out.length;
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i]);
    if (b === undefined) {
      out.length = start;
      for (const raw of encoder.encode(token)) out.push(raw);
      return;
    }
    out.push(b);
  }
}
