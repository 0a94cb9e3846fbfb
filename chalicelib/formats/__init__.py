"""Pure text formats: SMS length/transliteration and CAP 1.2 / Atom documents."""
