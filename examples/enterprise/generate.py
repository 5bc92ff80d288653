"""Regenerate this example: a program of 50 projects sharing role sets.

    python examples/enterprise/generate.py

Deterministic (no randomness), so running it again produces the committed files byte for byte;
the tests validate the committed YAML.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELINE = "# yaml-language-server: $schema={rel}schemas/manifest.schema.json\n"
DISCIPLINES = ("Structural", "Civil", "Electrical", "Mechanical", "Geotechnical")
LEADS = ("bob", "carol", "dana", "eli", "frank")
REGIONS = (
    ("East US", "America/New_York"),
    ("West Europe", "Europe/Amsterdam"),
    ("UK South", "Europe/London"),
    ("Australia East", "Australia/Sydney"),
    ("Canada Central", "America/Toronto"),
)

ROLE_SETS = """\
# Shared by every project of the program: change a role here, every project's plan shows it.
roleSets:
  program-standard:
    - displayName: Viewer
      description: Reads models, documents and issues
      permissions: [itwins_read, imodels_read, imodels_webview, storage_read, issues_read]
    - displayName: Engineer
      description: Designs and edits models
      permissions: [itwins_read, imodels_read, imodels_webview, imodels_write, storage_read,
                    storage_write, issues_read, issues_write, changedelements_read,
                    clashdetection_read, savedviews_read, savedviews_write]
    - displayName: Document Controller
      description: Manages documents and forms
      permissions: [itwins_read, storage_read, storage_write, storage_delete, forms_read,
                    forms_write, forms_delete]
  program-admin:
    - displayName: Project Administrator
      description: Manages the project's members, roles and groups
      permissions: [itwins_read, itwins_modify, administration_invite_member,
                    administration_remove_member, administration_manage_roles,
                    administration_manage_groups]
"""

PROGRAM = """\
projects:
  - number: METRO-PRG
    displayName: Metro Expansion Program
    class: Endeavor
    subClass: Program
    status: Active
    dataCenterLocation: East US
    ianaTimeZone: America/New_York
    roles:
      - use: program-admin
      - use: program-standard
    owners: [alice@contoso.com]
    members:
      - email: bob@contoso.com
        roles: [Project Administrator]
      - email: carol@contoso.com
        roles: [Viewer]
"""


def project(index: int) -> str:
    discipline = DISCIPLINES[index % len(DISCIPLINES)]
    lead = LEADS[index % len(LEADS)]
    location, zone = REGIONS[index % len(REGIONS)]
    number = f"METRO-{index + 1:03d}"
    lines = [
        "projects:",
        f"  - number: {number}",
        f"    displayName: Metro Station {index + 1:02d} - {discipline}",
        "    class: Endeavor",
        "    subClass: Project",
        "    type: Construction Project",
        "    status: Active",
        f"    dataCenterLocation: {location}",
        f"    ianaTimeZone: {zone}",
        "    parent: METRO-PRG",
        "    manage: {owners: additive}",
        "    roles:",
        "      - use: program-standard",
        "      - use: program-admin",
        "    groups:",
        f"      - name: {discipline} Team",
        f"        description: {discipline} engineers of station {index + 1:02d}",
        "        members:",
    ]
    lines += [f"          - engineer{(index * 3 + k) % 40 + 1:02d}@contoso.com" for k in range(3)]
    lines += [
        "    owners: [alice@contoso.com]",
        "    members:",
        f"      - email: {lead}@contoso.com",
        "        roles: [Project Administrator]",
        f"      - group: {discipline} Team",
        "        roles: [Engineer]",
        f"      - email: controller{index % 4 + 1}@contoso.com",
        "        roles: [Document Controller]",
    ]
    if index % 10 == 0:
        lines += [
            "      - email: reviewer@fabrikam.com   # external partner: invited",
            "        roles: [Viewer]",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    (HERE / "role-sets.yaml").write_text(MODELINE.format(rel="../../") + ROLE_SETS)
    (HERE / "program.yaml").write_text(MODELINE.format(rel="../../") + PROGRAM)
    folder = HERE / "projects"
    folder.mkdir(exist_ok=True)
    for index in range(50):
        text = MODELINE.format(rel="../../../") + project(index)
        (folder / f"metro-{index + 1:03d}.yaml").write_text(text)


if __name__ == "__main__":
    main()
