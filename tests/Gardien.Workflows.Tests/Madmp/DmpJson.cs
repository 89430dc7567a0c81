using System.Text.Json.Nodes;

namespace Gardien.Workflows.Tests.Madmp;

/// <summary>Builds small valid maDMPs to mutate in tests.</summary>
internal static class DmpJson
{
    public static JsonObject Minimal12() => (JsonObject)JsonNode.Parse("""
        {
          "$schema": "./JSON-schema/1.2/maDMP-schema-1.2.json",
          "dmp": {
            "title": "Cohorte IRM 2025",
            "language": "eng",
            "created": "2025-01-31T09:00:00Z",
            "modified": "2025-02-01T09:00:00Z",
            "ethical_issues_exist": "no",
            "dmp_id": { "identifier": "https://doi.org/10.0000/abc", "type": "doi" },
            "contact": {
              "name": "Marie Curie",
              "mbox": "marie.curie@institut.org",
              "contact_id": { "identifier": "https://orcid.org/0000-0002-1825-0097", "type": "orcid" }
            },
            "contributor": [
              {
                "name": "Ada Lovelace",
                "mbox": "ada@institut.org",
                "contributor_id": { "identifier": "https://orcid.org/0000-0001-0000-0001", "type": "orcid" },
                "role": [ "DataManager" ]
              }
            ],
            "dataset": [
              {
                "title": "IRM brutes",
                "dataset_id": { "identifier": "ds-1", "type": "other" },
                "personal_data": "yes",
                "sensitive_data": "yes",
                "distribution": [
                  { "title": "Raw DICOM", "data_access": "closed", "byte_size": 1000 }
                ]
              }
            ]
          }
        }
        """)!;

    public static JsonObject Dmp(this JsonObject root) => (JsonObject)root["dmp"]!;
}
