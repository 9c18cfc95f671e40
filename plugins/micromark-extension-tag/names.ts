/** The tag names of the tagpress language; anything else in brackets stays ordinary Markdown. */
export const defaultTagNames: readonly string[] = ['Q', 'A', 'T', 'BLOCKREAD', 'CHAPTREEREAD']

/** Longest name the tokenizer reads before giving up (keeps `[/AAAA…` cheap). */
export const maxNameSize = 32

/** Longest explicit id (`[/Q#install-steps]`). */
export const maxIdSize = 100
