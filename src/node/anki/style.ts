/**
 * The card CSS of the "tagpress Q&A" note type: readable on a phone (375 px)
 * and a desktop, the site's colours, code highlighted with the site's token
 * classes (`sk-*`, colours from `site/styles/code-tokens.css`), and dark mode
 * through Anki's `.nightMode` / `.night_mode` classes (desktop, AnkiDroid,
 * AnkiMobile). No JavaScript, no web fonts: cards render the same offline on
 * every client. Changing this text changes the note type: see `notetypeVersion`.
 */
export const cardCss = `.card {
  --tp-bg: #ffffff;
  --tp-text: #1b1e24;
  --tp-text-2: #484f5b;
  --tp-text-3: #5c6470;
  --tp-border: #dadde3;
  --tp-divider: #e8eaee;
  --tp-soft: #f6f7f9;
  --tp-accent: #3451c7;
  --tp-a: #17724a;
  --tp-a-bg: #f3f8f5;
  --tp-a-line: #9fcfb7;
  --tp-code-bg: #f6f7f9;
  --tp-code-inline-bg: #eef0f3;
  --tp-code-fg: #1f2329;
  --tp-code-comment: #5f6875;
  --tp-code-keyword: #c4232f;
  --tp-code-string: #0a3069;
  --tp-code-string-expression: #116329;
  --tp-code-constant: #0550ae;
  --tp-code-function: #6639ba;
  --tp-code-parameter: #953800;
  --tp-code-punctuation: #3d444d;
  --tp-code-link: #0550ae;
  --tp-code-inserted: #116329;
  --tp-code-deleted: #82071e;
  --tp-code-changed: #8c4a00;
  --tp-ansi-black: #1f2329;
  --tp-ansi-red: #c4232f;
  --tp-ansi-green: #116329;
  --tp-ansi-yellow: #7d4e00;
  --tp-ansi-blue: #0550ae;
  --tp-ansi-magenta: #a8326f;
  --tp-ansi-cyan: #0e6c73;
  --tp-ansi-white: #5f6875;
  margin: 0;
  padding: 1.25rem 1rem 2rem;
  background: var(--tp-bg);
  color: var(--tp-text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif;
  font-size: 19px;
  line-height: 1.55;
  text-align: left;
  overflow-wrap: break-word;
}
.card.nightMode, .card.night_mode, .nightMode .card, .night_mode .card {
  --tp-bg: #17191e;
  --tp-text: #e5e7eb;
  --tp-text-2: #b3b9c4;
  --tp-text-3: #9aa2ae;
  --tp-border: #3a404b;
  --tp-divider: #2b3038;
  --tp-soft: #1f232a;
  --tp-accent: #93a8ff;
  --tp-a: #6bd3a0;
  --tp-a-bg: #16201b;
  --tp-a-line: #2f5a45;
  --tp-code-bg: #1f232a;
  --tp-code-inline-bg: #2a2f38;
  --tp-code-fg: #e6edf3;
  --tp-code-comment: #8d96a0;
  --tp-code-keyword: #ff7b72;
  --tp-code-string: #a5d6ff;
  --tp-code-string-expression: #7ee787;
  --tp-code-constant: #79c0ff;
  --tp-code-function: #d2a8ff;
  --tp-code-parameter: #ffa657;
  --tp-code-punctuation: #c9d1d9;
  --tp-code-link: #79c0ff;
  --tp-code-inserted: #7ee787;
  --tp-code-deleted: #ffa198;
  --tp-code-changed: #ffa657;
  --tp-ansi-black: #8d96a0;
  --tp-ansi-red: #ff7b72;
  --tp-ansi-green: #3fb950;
  --tp-ansi-yellow: #d29922;
  --tp-ansi-blue: #58a6ff;
  --tp-ansi-magenta: #bc8cff;
  --tp-ansi-cyan: #39c5cf;
  --tp-ansi-white: #b1bac4;
}
.tp-card { max-width: 42rem; margin: 0 auto; }
.tp-context {
  margin: 0 0 .75rem;
  color: var(--tp-text-3);
  font-size: .78em;
  font-weight: 500;
  line-height: 1.4;
  letter-spacing: .01em;
}
.tp-question { font-size: 1.18em; font-weight: 620; line-height: 1.4; }
.tp-question :is(p, ul, ol, pre, table, blockquote) { font-size: .85em; font-weight: 400; }
#answer {
  max-width: 42rem;
  height: 0;
  margin: 1.25rem auto;
  border: 0;
  border-top: 1px solid var(--tp-divider);
}
.tp-answer-intro { margin: 0 0 .5rem; color: var(--tp-text-2); font-style: italic; }
.tp-answer {
  padding: .8rem 1rem;
  border-radius: 8px;
  background: var(--tp-a-bg);
  box-shadow: inset 3px 0 0 var(--tp-a), inset 0 0 0 1px var(--tp-a-line);
}
.tp-ref {
  margin: 1rem 0 0;
  color: var(--tp-text-3);
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: .68em;
  text-align: right;
  overflow-wrap: anywhere;
}
.tp-card :is(p, ul, ol, dl, blockquote, pre, table, .tp-code) { margin: 0 0 .8em; }
.tp-card > div > :last-child, .tp-answer > :last-child, .tp-question > :last-child { margin-bottom: 0; }
.tp-card :is(ul, ol) { padding-left: 1.4em; }
.tp-card li + li { margin-top: .25em; }
.tp-card blockquote { margin-left: 0; padding-left: .9em; border-left: 3px solid var(--tp-border); color: var(--tp-text-2); }
.tp-card a { color: var(--tp-accent); text-underline-offset: .15em; }
.tp-card .tp-link { text-decoration: underline dotted var(--tp-text-3); text-underline-offset: .15em; }
.tp-card img { max-width: 100%; height: auto; border-radius: 4px; }
.tp-card hr { border: 0; border-top: 1px solid var(--tp-divider); }
.tp-card :is(code, kbd, samp, pre) { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; }
.tp-card :not(pre) > code {
  padding: .1em .35em;
  border-radius: 5px;
  background: var(--tp-code-inline-bg);
  color: var(--tp-code-fg);
  font-size: .86em;
  overflow-wrap: anywhere;
}
.tp-card .tp-code { position: relative; border: 1px solid var(--tp-divider); border-radius: 8px; }
.tp-card .tp-code[data-lang]::before {
  content: attr(data-lang);
  position: absolute;
  top: .25rem;
  right: .6rem;
  color: var(--tp-text-3);
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: .7rem;
}
.tp-card pre {
  overflow-x: auto;
  padding: .8rem 1rem;
  border-radius: 8px;
  background: var(--tp-code-bg);
  color: var(--tp-code-fg);
  font-size: .8em;
  line-height: 1.55;
  tab-size: 4;
  text-align: left;
}
.tp-card .tp-code > pre { margin: 0; border-radius: 7px; }
.tp-card .tp-code[data-lang] > pre { padding-top: 1.4rem; }
.tp-card pre code { display: block; min-width: max-content; font-size: inherit; }
.tp-card table { display: block; max-width: 100%; overflow-x: auto; border-collapse: collapse; font-size: .9em; }
.tp-card :is(th, td) { padding: .4rem .7rem; border: 1px solid var(--tp-border); text-align: left; vertical-align: top; }
.tp-card th { background: var(--tp-soft); font-weight: 650; }
.tp-card .task-list-item { list-style: none; }
.tp-card mark { padding: 0 .15em; border-radius: 3px; background: #fde68a; color: #1b1e24; }
.sk-comment { color: var(--tp-code-comment); }
.sk-keyword { color: var(--tp-code-keyword); }
.sk-string { color: var(--tp-code-string); }
.sk-string-expression { color: var(--tp-code-string-expression); }
.sk-constant { color: var(--tp-code-constant); }
.sk-function { color: var(--tp-code-function); }
.sk-parameter { color: var(--tp-code-parameter); }
.sk-punctuation { color: var(--tp-code-punctuation); }
.sk-link { color: var(--tp-code-link); text-decoration: underline; }
.sk-inserted { color: var(--tp-code-inserted); }
.sk-deleted { color: var(--tp-code-deleted); }
.sk-changed { color: var(--tp-code-changed); }
.sk-i { font-style: italic; }
.sk-ansi-black, .sk-ansi-bright-black { color: var(--tp-ansi-black); }
.sk-ansi-red, .sk-ansi-bright-red { color: var(--tp-ansi-red); }
.sk-ansi-green, .sk-ansi-bright-green { color: var(--tp-ansi-green); }
.sk-ansi-yellow, .sk-ansi-bright-yellow { color: var(--tp-ansi-yellow); }
.sk-ansi-blue, .sk-ansi-bright-blue { color: var(--tp-ansi-blue); }
.sk-ansi-magenta, .sk-ansi-bright-magenta { color: var(--tp-ansi-magenta); }
.sk-ansi-cyan, .sk-ansi-bright-cyan { color: var(--tp-ansi-cyan); }
.sk-ansi-white, .sk-ansi-bright-white { color: var(--tp-ansi-white); }
@media (max-width: 480px) {
  .card { padding: 1rem .8rem 1.5rem; font-size: 18px; }
  .tp-answer { padding: .7rem .8rem; }
  .tp-card pre { padding: .7rem .8rem; font-size: .76em; }
}
`
