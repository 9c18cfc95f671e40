// Writes docs/errors.md from the fixtures in test/fixtures/errors/ and the
// explanations below; test/errors.test.ts fails when the two drift apart.
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'

const explain = {
  'unclosed-tag': ['A `[/Q]`, `[/A]` or `[/T]` has no closing tag where one must be: before the end of its paragraph, heading or cell (or, for an answer that spans blocks, before the next heading or the end of the file).', 'Close it: `[/Q]How?[Q/]`.'],
  'stray-closer': ['A closing tag with no opening tag before it.', 'Add the opening tag, or escape the text as `\\[A/]` if you mean the characters.'],
  'unbalanced-literal': ['Inside a question or answer, other tags are text only as balanced pairs (so you can write about `[/Q]…[Q/]` itself). A lone one is ambiguous.', 'Balance it, put it in inline code (`` `[/Q]` ``), or escape it (`\\[/Q]`).'],
  'wrong-tag-form': ['A marker written as a pair tag (`[/BLOCKREAD]`), or a pair tag written as a marker (`[/Q/]`).', 'Markers are void: `[/BLOCKREAD/]`, `[/CHAPTREEREAD/]`; questions, answers and topics are pairs: `[/Q]…[Q/]`.'],
  'unanswered-question': ['Every question needs its answer before the next question and in the same section (no heading in between).', 'Add `[/A]…[A/]` after the question.'],
  'answer-without-question': ['An answer with no open question before it in its section.', 'Add the question before it, or remove the tags.'],
  'misplaced-in-heading': ['A heading may hold a question (`## [/Q]How?[Q/]`) or a topic (`## [/T]Title[T/]`), not an answer.', 'Put the answer in the section under the heading.'],
  'topic-outside-heading': ['`[/T]…[T/]` names a heading\'s topic; outside a heading it means nothing.', 'Move it into a heading, or remove the tags.'],
  'answer-span': ['An answer (or question) that spans blocks must open at the very start of a block and close at the very end of the text of a later block (the end of a list\'s last item, a quote\'s last paragraph), both in the same container.', 'Move `[/A]` to the start of the first block and `[A/]` to the end of the last one, or keep the answer in one paragraph.'],
  'heading-in-answer': ['A heading starts a new section, so it cannot sit inside a question or an answer.', 'Close the answer before the heading.'],
  'duplicate-id': ['Explicit ids (`[/Q#id]`, `[/T#id]`) name anchors, Anki notes and tree nodes; they must be unique in their file.', 'Rename one of them.'],
  'front-matter': ['The YAML front matter does not parse, or a key tagpress reads has the wrong type (`blockread`/`chaptread`: `all`; `datasets`, `anki`, `draft`: booleans; `title`, `description`: strings; `tags`: a string or a list; `order`: a number).', 'Fix the value; other keys are yours and are not checked.'],
  'dead-link': ['A link to a page that does not exist (or is a draft the build leaves out), or to an anchor that is not a heading or question of its page.', 'Fix the path (links use the `.md` file) or the anchor (the slug of the heading\'s topic, `q-` + the slug of a question, or an explicit id).'],
  'missing-asset': ['A link or image points at a file that is not in the content folder.', 'Add the file, or fix the path (relative to the Markdown file).'],
  'duplicate-topic': ['A heading has one topic at most.', 'Keep one `[/T]…[T/]`.'],
  'misplaced-marker': ['`[/BLOCKREAD/]` and `[/CHAPTREEREAD/]` read their section; in a heading they are ambiguous.', 'Put the marker in the section\'s text, for example alone on a line at its end.']
}

const root = new URL('../test/fixtures/errors/', import.meta.url)
let out = `# Error messages

Every message has the form \`path:line:column: message [code]\` (\`tagpress check --format json\`
gives the same as JSON). The build reports every error of every file, exits with status 1, and
loses nothing: a file with errors keeps its last good output, the other files are written
normally. Each entry below is a test fixture (\`test/fixtures/errors/<code>-<rule>/\`): the input
and the exact output, checked by \`npm test\`.

`
for (const folder of readdirSync(root).sort()) {
  const code = folder.slice(0, 5)
  const rule = folder.slice(6)
  const [why, fix] = explain[rule]
  const input = readFileSync(new URL(folder + '/input.md', root), 'utf8').trimEnd()
  const messages = readFileSync(new URL(folder + '/messages.txt', root), 'utf8').trimEnd()
  out += `## ${code} \`${rule}\`\n\n${why} ${fix}\n\n\`\`\`\`markdown\n${input}\n\`\`\`\`\n\n\`\`\`text\n${messages}\n\`\`\`\n\n`
}
writeFileSync(new URL('../docs/errors.md', import.meta.url), out.trimEnd() + '\n')
