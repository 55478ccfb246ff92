"""Spreadsheets in and out, in the import format (docs/import-format.md).

- `read`: files to tables of text (CSV encodings, workbooks); `archive`: the zip bomb
  guard and formula cells, before anything unpacks a workbook.
- `kinds/`: one module per kind or family (programmes; items and statuses; risks and
  dependencies; indicators; narratives): its columns, typed row, checks and how a row
  is applied. Add a column there.
- `check`: table rows to typed rows; `apply`: typed rows through the ledger's commands;
  `importing`: the two steps together (`prepare`, `record`, `import_file`).
- `export`: the ledger in the same format; `template`: the empty template workbook.
- `cells`: the one formula-injection guard for every CSV or XLSX cell written.
- `results`: problems and each row's outcome.
"""
