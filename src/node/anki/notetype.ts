import {createHash} from 'node:crypto'
import {cardCss} from './style.js'
import {wideIdFromName} from './ids.js'

/**
 * The "tagpress Q&A" note type (SPEC §3). Anki matches a note type on import
 * by id and compares its fields and templates by name: the id, the field
 * names and order and the template name must never change. A change to them
 * needs a new id on purpose (and a note in the docs about "Merge note types").
 */
export const notetypeName = 'tagpress Q&A'

/** `idFromName('tagpress/notetype/qa/v1')`, written out so that no refactoring can change it (a test checks). */
export const notetypeId = 1822971147

/** The five fields, in the SPEC's order; tools read them by name, never by position. */
export const fieldNames = ['Instruction', 'Question', 'AnswerIntro', 'Answer', 'ParentRef'] as const
export type FieldName = (typeof fieldNames)[number]

/** The Question is the sort field (the first field, Instruction, drives Anki's duplicate check). */
export const sortFieldIndex = 1

const fieldDescriptions: Record<FieldName, string> = {
  Instruction: 'Where the question comes from and its number there (anki.instruction)',
  Question: 'The question, rendered from Markdown',
  AnswerIntro: 'A lead-in shown before the answer (anki.answerIntro)',
  Answer: 'The answer, rendered from Markdown',
  ParentRef: 'Source of the card: file_id#chapter_id'
}

export const templateName = 'Card 1'

/** Front: the Instruction as the context line (the chapter path and the question's number), then the question. */
export const frontTemplate = `<div class="tp-card tp-front">
{{#Instruction}}<div class="tp-context">{{Instruction}}</div>{{/Instruction}}
<div class="tp-question">{{Question}}</div>
</div>`

/** Back: the front, then the answer intro, the answer, and the card's source in small print. */
export const backTemplate = `{{FrontSide}}

<hr id="answer">

<div class="tp-card tp-back">
{{#AnswerIntro}}<div class="tp-answer-intro">{{AnswerIntro}}</div>{{/AnswerIntro}}
<div class="tp-answer">{{Answer}}</div>
{{#ParentRef}}<div class="tp-ref">{{ParentRef}}</div>{{/ParentRef}}
</div>`

/**
 * The note type's `mod` (seconds). Anki updates a note type on import only when
 * ours is newer than the copy in the collection, so this changes exactly when
 * the templates or the CSS change: a test compares `notetypeHash()` with
 * `version.sha256` and fails until both are updated (set `mod` to the time of
 * the change, `date +%s`). Never derive it from the build time: every import
 * would then overwrite a user's own CSS tweaks.
 */
export const notetypeVersion = {mod: 1795311918, sha256: '6bf8e6c8000fd0d6bcdcb3a7ce34f3e2198c83211329cf6c418cdd1dc77bb356'}

/** SHA-256 of everything in the note type a user sees: field names, templates, CSS. */
export function notetypeHash(): string {
  return createHash('sha256').update(JSON.stringify([notetypeName, fieldNames, templateName, frontTemplate, backTemplate, cardCss])).digest('hex')
}

const latexPre = `\\documentclass[12pt]{article}
\\special{papersize=3in,5in}
\\usepackage[utf8]{inputenc}
\\usepackage{amssymb,amsmath}
\\pagestyle{empty}
\\setlength{\\parindent}{0in}
\\begin{document}
`
const latexPost = '\\end{document}'

/** The note type as schema-11 JSON (`col.models`), in the shape genanki writes and rslib's `NotetypeSchema11` reads. */
export function notetypeJson(deckId: number): Record<string, unknown> {
  return {
    css: cardCss,
    did: deckId,
    flds: fieldNames.map((name, ord) => ({
      name,
      ord,
      font: 'Arial',
      media: [],
      rtl: false,
      size: 20,
      sticky: false,
      description: fieldDescriptions[name],
      id: wideIdFromName('tagpress/notetype/qa/field/' + name)
    })),
    id: String(notetypeId),
    latexPost,
    latexPre,
    latexsvg: false,
    mod: notetypeVersion.mod,
    name: notetypeName,
    req: [[0, 'any', [0, 1]]],
    sortf: sortFieldIndex,
    tags: [],
    tmpls: [
      {
        name: templateName,
        ord: 0,
        qfmt: frontTemplate,
        afmt: backTemplate,
        bqfmt: '',
        bafmt: '',
        bfont: '',
        bsize: 0,
        did: null,
        id: wideIdFromName('tagpress/notetype/qa/template/' + templateName)
      }
    ],
    type: 0,
    usn: -1,
    vers: []
  }
}
