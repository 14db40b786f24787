/**
 * The JSON examples of a Markdown document: the values in its ```json
 * blocks, one after another (a value may span lines, a block may hold
 * several). Shared by the docs' tests; reads text only.
 */

/** The JSON values in one block's text, as written; throws if the brackets do not balance. */
export function splitJsonValues(block: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < block.length; i++) {
    const c = block[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth++ === 0) start = i;
    } else if (c === "}" || c === "]") {
      if (--depth === 0) values.push(block.slice(start, i + 1));
    }
  }
  if (depth !== 0) throw new Error(`unbalanced brackets in a json block: ${block.slice(0, 80)}...`);
  return values;
}

/** Every JSON value of every ```json block in a Markdown text, in order, as written. */
export function jsonExamplesIn(markdown: string): string[] {
  return [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((match) => splitJsonValues(match[1]!));
}
