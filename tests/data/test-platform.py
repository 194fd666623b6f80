#!/usr/bin/env python3
"""The platform files, checked the way a distribution or Flathub checks them.

Usage: test-platform.py SOURCE_ROOT BUILD_ROOT

Speaks TAP, one case per check:
  - the built desktop file passes desktop-file-validate;
  - the built AppStream metainfo passes appstreamcli validate (without the network);
  - the GSettings schema compiles with --strict;
  - every GSettings key is named in src/core/pm-settings-keys.h, and every name there
    is a key of the schema;
  - po/POTFILES.in lists every source, .ui and data file with translatable strings,
    and nothing else (no missing file, no file without strings);
  - xgettext reads every file POTFILES.in lists and finds strings in each;
  - the Flatpak manifest builds this app, and every library the meson files ask for
    comes either with the GNOME runtime or from one of the manifest's modules.

A check whose tool is not installed is skipped, saying which Debian package has it.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SOURCE_ROOT, BUILD_ROOT = sys.argv[1], sys.argv[2]
APP_ID = "org.postmeter.Kiosk"

# The folders whose files ship in the program (not tests, benchmarks or tools for
# developers), and what marks a translatable string in each kind of file.
SHIPPED = ["src", "drivers", "ui", "data"]
C_MARK = re.compile(r'(?<![A-Za-z0-9_])(?:N?C?_|NC_|g_dn?gettext|g_dpgettext2?|'
                    r'ngettext|gettext)\s*\(')
UI_MARK = re.compile(r'translatable="(?:yes|true|1)"')
XML_MARK = re.compile(r"<(?:summary|description|_name|name)\b")

cases = []


def case(description):
    def add(func):
        cases.append((description, func))
        return func
    return add


class Skip(Exception):
    pass


def run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


def need(program, package):
    path = shutil.which(program)
    if path is None:
        raise Skip(f"{program} is not installed (Debian package {package})")
    return path


def has_strings(path):
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        return False
    if name.endswith((".c", ".h")):
        # Comments may mention _() without marking anything.
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
        return C_MARK.search(text) is not None
    if name.endswith(".ui"):
        return UI_MARK.search(text) is not None
    if name.endswith(".gschema.xml"):
        return XML_MARK.search(text) is not None
    if name.endswith((".desktop.in", ".metainfo.xml.in")):
        return True
    return False


def files_with_strings():
    found = set()
    for top in SHIPPED:
        for folder, dirs, files in os.walk(os.path.join(SOURCE_ROOT, top)):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                path = os.path.join(folder, name)
                if has_strings(path):
                    found.add(os.path.relpath(path, SOURCE_ROOT))
    return found


def potfiles():
    listed = []
    with open(os.path.join(SOURCE_ROOT, "po", "POTFILES.in"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                listed.append(line)
    return listed


@case("the desktop file passes desktop-file-validate")
def desktop_file():
    program = need("desktop-file-validate", "desktop-file-utils")
    path = os.path.join(BUILD_ROOT, "data", APP_ID + ".desktop")
    result = run([program, path])
    # It prints nothing when the file is right; hints and warnings count as faults.
    return result.returncode == 0 and result.stdout.strip() == "", result.stdout


@case("the AppStream metainfo passes appstreamcli validate")
def metainfo():
    program = need("appstreamcli", "appstream")
    path = os.path.join(BUILD_ROOT, "data", APP_ID + ".metainfo.xml")
    result = run([program, "validate", "--no-net", "--explain", path])
    return result.returncode == 0, result.stdout


@case("the GSettings schema compiles with --strict")
def schema():
    program = need("glib-compile-schemas", "libglib2.0-bin")
    with tempfile.TemporaryDirectory() as out:
        shutil.copy(os.path.join(SOURCE_ROOT, "data", APP_ID + ".gschema.xml"), out)
        result = run([program, "--strict", "--dry-run", out])
    return result.returncode == 0, result.stdout


@case("every GSettings key is named once in pm-settings-keys.h, and only keys are")
def settings_keys():
    with open(os.path.join(SOURCE_ROOT, "data", APP_ID + ".gschema.xml"),
              encoding="utf-8") as f:
        keys = set(re.findall(r'<key\s+name="([^"]+)"', f.read()))
    with open(os.path.join(SOURCE_ROOT, "src", "core", "pm-settings-keys.h"),
              encoding="utf-8") as f:
        header = f.read()
    named = re.findall(r'#define\s+PM_SETTINGS_(\w+)\s+"([^"]+)"', header)
    names = [value for macro, value in named if macro != "SCHEMA" and
             not macro.startswith("SCHEMA_")]
    report = []
    for key in sorted(keys - set(names)):
        report.append(f"key {key} has no name in pm-settings-keys.h")
    for name in sorted(set(names) - keys):
        report.append(f"pm-settings-keys.h names {name}, which the schema lacks")
    for name in sorted({n for n in names if names.count(n) > 1}):
        report.append(f"pm-settings-keys.h names {name} more than once")
    return not report, "\n".join(report)


@case("po/POTFILES.in lists every file with translatable strings, and only those")
def potfiles_complete():
    listed = potfiles()
    wanted = files_with_strings()
    report = []
    for path in sorted(wanted - set(listed)):
        report.append(f"missing from po/POTFILES.in: {path}")
    for path in listed:
        full = os.path.join(SOURCE_ROOT, path)
        if not os.path.exists(full):
            report.append(f"po/POTFILES.in lists {path}, which does not exist")
        elif path not in wanted:
            report.append(f"po/POTFILES.in lists {path}, which has no translatable "
                          "strings")
    for path in sorted({p for p in listed if listed.count(p) > 1}):
        report.append(f"po/POTFILES.in lists {path} more than once")
    return not report, "\n".join(report)


@case("xgettext reads every listed file and finds its strings")
def xgettext():
    program = need("xgettext", "gettext")
    listed = [p for p in potfiles() if os.path.exists(os.path.join(SOURCE_ROOT, p))]
    report = []
    with tempfile.TemporaryDirectory() as out:
        pot = os.path.join(out, "postmeter.pot")
        # The same keywords as meson's i18n.gettext(preset: 'glib').
        result = run([program, "--from-code=UTF-8", "--add-comments", "--directory",
                      SOURCE_ROOT, "--output", pot, "--keyword=_", "--keyword=N_",
                      "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
                      "--keyword=g_dcgettext:2", "--keyword=g_dngettext:2,3",
                      "--keyword=g_dpgettext2:2c,3", "--flag=N_:1:pass-c-format",
                      "--flag=C_:2:pass-c-format", "--flag=NC_:2:pass-c-format",
                      "--flag=g_dngettext:2:pass-c-format",
                      "--flag=g_strdup_printf:1:c-format",
                      "--flag=g_string_printf:2:c-format",
                      "--flag=g_set_error:4:c-format"] + listed)
        if result.returncode != 0:
            return False, result.stdout
        with open(pot, encoding="utf-8") as f:
            text = f.read()
    for path in listed:
        if f"#: {path}:" not in text and f" {path}:" not in text:
            report.append(f"xgettext found no string in {path}")
    return not report, "\n".join(report)


# What the GNOME runtime (on the freedesktop one) already has, by meson dependency name.
RUNTIME = {
    "glib-2.0", "gobject-2.0", "gio-2.0", "gio-unix-2.0", "gtk4", "libadwaita-1",
    "libsoup-3.0", "libcrypto", "libssl", "openssl", "libxml-2.0", "sqlite3", "cairo",
    "cairo-pdf", "cairo-png", "pangocairo", "pango", "cups", "m", "threads", "zlib",
    "libudev", "gdk-pixbuf-2.0", "json-glib-1.0",
}
# The manifest module that provides each library the runtime lacks.
MODULES = {"zint": "zint", "libdmtx": "libdmtx", "gudev-1.0": "libgudev"}


@case("the Flatpak manifest builds the app and provides every library meson needs")
def flatpak_manifest():
    with open(os.path.join(SOURCE_ROOT, "flatpak", APP_ID + ".json"),
              encoding="utf-8") as f:
        manifest = json.load(f)
    report = []
    if manifest.get("id") != APP_ID:
        report.append(f"the manifest's id is {manifest.get('id')}, not {APP_ID}")
    if manifest.get("command") != "postmeter":
        report.append("the manifest does not run postmeter")
    if manifest.get("runtime") != "org.gnome.Platform":
        report.append("the manifest is not built on the GNOME runtime")
    modules = [m.get("name") for m in manifest.get("modules", [])]
    if not modules or modules[-1] != "postmeter":
        report.append("postmeter is not the manifest's last module")

    wanted = set()
    for build in glob.glob(os.path.join(SOURCE_ROOT, "**", "meson.build"), recursive=True):
        if os.sep + "_build" in build or os.sep + "subprojects" + os.sep in build:
            continue
        with open(build, encoding="utf-8") as f:
            text = f.read()
        wanted |= set(re.findall(r"\bdependency\(\s*'([^']+)'", text))
        wanted |= set(re.findall(r"find_library\(\s*'([^']+)'", text))
    for name in sorted(wanted):
        if name in RUNTIME:
            continue
        module = MODULES.get(name)
        if module is None:
            report.append(f"meson needs {name}: say in tests/data/test-platform.py "
                          "whether the GNOME runtime has it, or build it in the manifest")
        elif module not in modules:
            report.append(f"meson needs {name}, but the manifest has no {module} module")
    for name, module in MODULES.items():
        if module in modules and name not in wanted:
            report.append(f"the manifest builds {module}, which meson no longer needs")
    return not report, "\n".join(report)


def main():
    print(f"1..{len(cases)}")
    failed = 0
    for number, (description, func) in enumerate(cases, 1):
        try:
            ok, detail = func()
        except Skip as skip:
            print(f"ok {number} - {description} # SKIP {skip}")
            continue
        print(f"{'ok' if ok else 'not ok'} {number} - {description}")
        if not ok:
            failed += 1
            for line in (detail or "").strip().splitlines():
                print(f"# {line}")
    return 1 if failed else 0


sys.exit(main())
