"""Writes reference-verdicts.csv: each hostile file's verdict against the RDA 1.2 schema by python-jsonschema.

Run from this folder: python3 verdicts.py. Duplicate keys keep the last value (Python's json module), lone surrogate
escapes are read as they are, format is not asserted; a file Python cannot decode as UTF-8 JSON is "unreadable".
"""
import csv
import glob
import json

import jsonschema

with open("../madmp/schema/1.2/maDMP-schema-1.2.json", encoding="utf-8") as f:
    schema = json.load(f)
validator = jsonschema.Draft202012Validator(schema)

rows = []
for name in sorted(glob.glob("*.json")):
    try:
        with open(name, encoding="utf-8") as f:
            document = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError):
        rows.append((name, "unreadable"))
        continue
    errors = list(validator.iter_errors(document))
    rows.append((name, "valid" if not errors else f"invalid({len(errors)})"))

with open("reference-verdicts.csv", "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(["file", "schema_1.2"])
    writer.writerows(rows)
