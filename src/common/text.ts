/**
 * Text Assay refuses rather than store changed: PostgreSQL cannot hold NUL; a lone UTF-16
 * surrogate is not Unicode and would be stored as U+FFFD; and the embedded database's
 * client drops a U+FEFF (byte order mark) at the start of a column's text when reading it.
 */
const NOT_TEXT = /\0|\p{Cs}/u;

/** Why a string cannot be stored exactly as sent, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.charCodeAt(0) === 0xfeff) {
    return 'starts with U+FEFF (a byte order mark), which is not kept';
  }
  return unicodeProblem(text);
}

/**
 * Why a string is not text PostgreSQL can hold or compare (a NUL; a lone surrogate, which is
 * not Unicode), or undefined when it is.
 */
export function unicodeProblem(text: string): string | undefined {
  const found = NOT_TEXT.exec(text)?.[0];
  if (found === undefined) return undefined;
  if (found === '\0') return 'holds a NUL character (\\u0000), which cannot be stored';
  return 'is not valid Unicode (it holds a lone surrogate)';
}

/**
 * The length PostgreSQL gives a string: its code points. JavaScript's `length` counts
 * UTF-16 units and validator.js skips variation selectors; a limit checked either way lets
 * through text that a varchar(n) column then refuses.
 */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++, n++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return n;
}
