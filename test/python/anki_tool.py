"""Drive the real Anki library (and genanki) for tagpress's deck tests.

Usage (each prints one JSON object on stdout):
  anki_tool.py import COLLECTION DECK.apkg     import a package with Anki's default options
  anki_tool.py import-tsv COLLECTION CARDS.tsv import Anki text (with its header lines)
  anki_tool.py dump COLLECTION                 notes, fields by name, decks, tags, media, note types, review state
  anki_tool.py review COLLECTION GUID          answer the note's card "Good" through the scheduler
  anki_tool.py render COLLECTION GUID          the card's question and answer HTML and the note type's CSS
  anki_tool.py genanki OUT.apkg                a small deck made by genanki (two note types, a sub-deck, media)
  anki_tool.py export COLLECTION OUT.apkg (legacy|latest)   Anki's own package export
  anki_tool.py make-collection OUT.anki2       a fresh schema-18 collection file with two Basic notes
  anki_tool.py sqlite-check DECK.apkg          Python's own SQLite on the package's collection: integrity check, counts
"""

import json
import os
import sys
import tempfile


def open_collection(path):
    from anki.collection import Collection

    return Collection(path)


def log_json(log):
    return {
        "new": len(log.new),
        "updated": len(log.updated),
        "duplicate": len(log.duplicate),
        "conflicting": len(log.conflicting),
        "first_field_match": len(log.first_field_match),
        "missing_notetype": len(log.missing_notetype),
        "found_notes": log.found_notes,
    }


def cmd_import(collection, package):
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col = open_collection(collection)
    try:
        options = ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, merge_notetypes=False)
        result = col.import_anki_package(ImportAnkiPackageRequest(package_path=package, options=options))
        return log_json(result.log)
    finally:
        col.close()


def cmd_import_tsv(collection, tsv):
    from anki.collection import ImportCsvRequest

    col = open_collection(collection)
    try:
        metadata = col.get_csv_metadata(tsv, None)
        result = col.import_csv(ImportCsvRequest(path=tsv, metadata=metadata))
        return log_json(result.log)
    finally:
        col.close()


def cmd_dump(collection):
    col = open_collection(collection)
    try:
        notes = []
        for nid in sorted(col.find_notes("")):
            note = col.get_note(nid)
            notetype = note.note_type()
            cards = []
            for card in note.cards():
                cards.append({
                    "id": card.id,
                    "deck": col.decks.name(card.did),
                    "due": card.due,
                    "ivl": card.ivl,
                    "reps": card.reps,
                    "type": card.type,
                    "queue": card.queue,
                    "revlog": col.db.scalar("select count() from revlog where cid = ?", card.id),
                })
            notes.append({
                "id": note.id,
                "guid": note.guid,
                "mod": note.mod,
                "notetype": notetype["name"],
                "fields": dict(zip([f["name"] for f in notetype["flds"]], note.fields)),
                "tags": sorted(note.tags),
                "cards": cards,
            })
        notetypes = []
        for model in col.models.all():
            notetypes.append({
                "id": model["id"],
                "name": model["name"],
                "fields": [f["name"] for f in model["flds"]],
                "sortf": model["sortf"],
                "templates": [t["name"] for t in model["tmpls"]],
                "mod": model["mod"],
            })
        media_dir = col.media.dir()
        media = sorted(name for name in os.listdir(media_dir) if not name.startswith("."))
        media_sizes = {name: os.path.getsize(os.path.join(media_dir, name)) for name in media}
        return {
            "notes": notes,
            "notetypes": notetypes,
            "decks": sorted(d.name for d in col.decks.all_names_and_ids()),
            "media": media,
            "media_sizes": media_sizes,
            "revlog": col.db.scalar("select count() from revlog"),
            "card_count": col.card_count(),
            "note_count": col.note_count(),
        }
    finally:
        col.close()


def note_by_guid(col, guid):
    nid = col.db.scalar("select id from notes where guid = ?", guid)
    if nid is None:
        raise SystemExit("no note with guid " + guid)
    return col.get_note(nid)


def cmd_review(collection, guid):
    col = open_collection(collection)
    try:
        note = note_by_guid(col, guid)
        card = note.cards()[0]
        # Answer "Good" until the card graduates to review, so it has an interval.
        for _ in range(4):
            card.load()
            if card.type == 2:
                break
            card.start_timer()
            col.sched.answerCard(card, 3)
        card.load()
        return {"card": card.id, "ivl": card.ivl, "type": card.type, "reps": card.reps,
                "revlog": col.db.scalar("select count() from revlog where cid = ?", card.id)}
    finally:
        col.close()


def cmd_render(collection, guid):
    col = open_collection(collection)
    try:
        note = note_by_guid(col, guid)
        card = note.cards()[0]
        return {"question": card.question(), "answer": card.answer(), "css": note.note_type()["css"]}
    finally:
        col.close()


def cmd_genanki(out):
    import genanki

    basic = genanki.Model(
        1607392319, "Simple Model",
        fields=[{"name": "Question"}, {"name": "Answer"}],
        templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}],
    )
    front_back = genanki.Model(
        1091735104, "Basic (genanki)",
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Extra"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
    )
    deck = genanki.Deck(2059400110, "Countries::Capitals")
    deck.add_note(genanki.Note(model=basic, fields=["Capital of Argentina", "Buenos Aires"], tags=["geo", "south_america"]))
    deck.add_note(genanki.Note(model=basic, fields=["Capital of <b>France</b>", 'Paris <img src="paris.png">']))
    other = genanki.Deck(2059400111, "Countries")
    other.add_note(genanki.Note(model=front_back, fields=["Largest country", "Russia", "by area"], tags=["geo"]))
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "paris.png")
        with open(image, "wb") as handle:
            handle.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
        package = genanki.Package([deck, other])
        package.media_files = [image]
        package.write_to_file(out, timestamp=1700000000)
    notes = []
    for d in (deck, other):
        for n in d.notes:
            notes.append({"guid": n.guid, "deck": d.name, "fields": n.fields, "tags": n.tags})
    return {"notes": notes}


def cmd_export(collection, out, kind):
    from anki.collection import ExportAnkiPackageOptions

    col = open_collection(collection)
    try:
        options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False, with_media=True, legacy=(kind == "legacy"))
        count = col.export_anki_package(out_path=out, options=options, limit=None)
        return {"notes": count}
    finally:
        col.close()


def cmd_make_collection(out):
    col = open_collection(out)
    try:
        basic = col.models.by_name("Basic")
        deck = col.decks.id("Made::By Anki")
        for front, back in (("One", "Eins"), ("Two", "Zwei <b>bold</b>")):
            note = col.new_note(basic)
            note["Front"] = front
            note["Back"] = back
            note.tags = ["made"]
            col.add_note(note, deck)
        return {"notes": col.note_count()}
    finally:
        col.close()


def cmd_sqlite_check(package):
    import sqlite3
    import zipfile

    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(package) as archive:
            archive.extract("collection.anki2", folder)
        db = sqlite3.connect(os.path.join(folder, "collection.anki2"))
        try:
            return {
                "sqlite": sqlite3.sqlite_version,
                "integrity": [row[0] for row in db.execute("PRAGMA integrity_check")],
                "notes": db.execute("SELECT count(*) FROM notes").fetchone()[0],
                "cards": db.execute("SELECT count(*) FROM cards").fetchone()[0],
                "decks": len(json.loads(db.execute("SELECT decks FROM col").fetchone()[0])),
            }
        finally:
            db.close()


def main(argv):
    commands = {
        "import": cmd_import,
        "import-tsv": cmd_import_tsv,
        "dump": cmd_dump,
        "review": cmd_review,
        "render": cmd_render,
        "genanki": cmd_genanki,
        "export": cmd_export,
        "make-collection": cmd_make_collection,
        "sqlite-check": cmd_sqlite_check,
    }
    if len(argv) < 2 or argv[1] not in commands:
        sys.stderr.write(__doc__)
        return 2
    result = commands[argv[1]](*argv[2:])
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
