//! Checks of install.ps1, the Windows installer, on a machine without PowerShell.
//!
//! PowerShell cannot run here, so the script is checked as far as a parser allows: it is parsed
//! with tree-sitter's PowerShell grammar (the PyPI packages `tree-sitter` and `tree-sitter-pwsh`,
//! installed on first use), and the parse tree is used to reject syntax errors, PowerShell 7-only
//! syntax, unknown commands, parameters that Windows PowerShell 5.1 lacks, calls of the script's
//! own functions with parameters they do not declare, and variables read where nothing assigns
//! them (each of which `Set-StrictMode -Version Latest` would turn into a failure on a user's
//! machine). The rest are checks of the text against the Rust installer's tables: targets,
//! binaries, environment variables, the receipt's keys and the install layout.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use codex_installer::layout::{RECEIPT_FILE, Receipt};
use codex_installer::settings::EnvVar;
use codex_installer::target::{Arch, Binary, Os, TARGETS};
use serde_json::Value;

/// Reads a PowerShell file (argv[1]) and prints what the tests need from its parse tree as JSON:
/// syntax errors with their positions, the count of every node type, the script's own parameters,
/// every function with its parameters, every command with its arguments, every variable (and
/// whether it is assigned there) and the byte ranges of comments.
const ANALYZER: &str = r#"
import json, sys
import tree_sitter, tree_sitter_pwsh

parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
src = open(sys.argv[1], "rb").read()
tree = parser.parse(src)

def text(n):
    return src[n.start_byte:n.end_byte].decode("utf-8", "replace")

def kids(n, kind):
    return [c for c in n.children if c.type == kind]

def var_name(n):
    t = text(n)
    if t.startswith("${") and t.endswith("}"):
        return t[2:-1]
    return t[1:]

def params_of(param_block):
    out = []
    for plist in kids(param_block, "parameter_list"):
        for p in kids(plist, "script_parameter"):
            names = [var_name(v) for v in kids(p, "variable")]
            types = []
            for al in kids(p, "attribute_list"):
                for a in kids(al, "attribute"):
                    types += [text(t).strip("[]") for t in kids(a, "type_literal")]
            if names:
                out.append({"name": names[0], "types": types})
    return out

out = {"has_error": tree.root_node.has_error, "errors": [], "types": {}, "functions": [],
       "commands": [], "variables": [], "script_params": [], "comments": []}
for pb in kids(tree.root_node, "param_block"):
    out["script_params"] = params_of(pb)

stack = [tree.root_node]
while stack:
    n = stack.pop()
    stack.extend(reversed(n.children))
    out["types"][n.type] = out["types"].get(n.type, 0) + 1
    if n.is_error or n.is_missing:
        out["errors"].append({"kind": ("MISSING " + n.type) if n.is_missing else "ERROR",
                              "start_byte": n.start_byte, "end_byte": n.end_byte,
                              "line": n.start_point[0] + 1, "column": n.start_point[1] + 1,
                              "text": text(n)[:80]})
    if n.type == "comment":
        out["comments"].append([n.start_byte, n.end_byte])
    elif n.type == "function_statement":
        name = [text(c) for c in kids(n, "function_name")]
        params = []
        for sb in kids(n, "script_block"):
            for pb in kids(sb, "param_block"):
                params = params_of(pb)
        out["functions"].append({"name": name[0] if name else "", "params": params,
                                 "line": n.start_point[0] + 1, "start_byte": n.start_byte,
                                 "end_byte": n.end_byte})
    elif n.type == "command":
        names = kids(n, "command_name")
        if names:
            elements = []
            for ce in kids(n, "command_elements"):
                for e in ce.children:
                    if e.type == "command_parameter":
                        elements.append(["param", text(e)])
                    elif e.type == "command_argument_sep":
                        if text(e).strip() == ":":
                            elements.append(["colon", ":"])
                    else:
                        elements.append(["arg", text(e)])
            out["commands"].append({"name": text(names[0]), "line": n.start_point[0] + 1,
                                    "start_byte": n.start_byte, "elements": elements})
    elif n.type == "variable":
        parent = n.parent
        assigned = parent is not None and parent.type in ("foreach_statement", "script_parameter")
        if parent is not None and parent.type == "unary_expression" and parent.parent is not None \
                and parent.parent.type == "left_assignment_expression":
            assigned = True
        out["variables"].append({"name": var_name(n), "assigned": assigned,
                                 "line": n.start_point[0] + 1, "start_byte": n.start_byte})
json.dump(out, sys.stdout)
"#;

fn script_path() -> PathBuf {
    codex_e2e::workspace_root().join("install.ps1")
}

fn script() -> String {
    std::fs::read_to_string(script_path()).expect("read install.ps1 at the workspace root")
}

fn python_ok(args: &[&str]) -> bool {
    Command::new("python3")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes sure `tree_sitter` and `tree_sitter_pwsh` import, installing them from PyPI once if not.
fn ensure_parser() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let probe = ["-c", "import tree_sitter, tree_sitter_pwsh"];
        if python_ok(&probe) {
            return;
        }
        let packages = ["tree-sitter==0.26.1", "tree-sitter-pwsh==0.38.1"];
        let mut install = vec![
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ];
        install.extend(packages);
        let out = Command::new("python3")
            .args(&install)
            .output()
            .expect("run python3 -m pip (python3 is needed to parse install.ps1)");
        let mut log = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() && log.contains("externally-managed-environment") {
            // A distribution's Python (PEP 668): install for this user instead.
            install.extend(["--user", "--break-system-packages"]);
            let retry = Command::new("python3")
                .args(&install)
                .output()
                .expect("run python3 -m pip --user");
            log = String::from_utf8_lossy(&retry.stderr).into_owned();
        }
        assert!(
            python_ok(&probe),
            "could not install the PowerShell parser ({}): {log}",
            packages.join(" ")
        );
    });
}

/// The analyzer's findings for the PowerShell file at `path`.
fn analyze_file(path: &Path) -> Value {
    ensure_parser();
    let out = Command::new("python3")
        .arg("-c")
        .arg(ANALYZER)
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the tree-sitter analyzer failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the analyzer prints JSON")
}

/// The analyzer's findings for PowerShell source text.
fn analyze(source: &str) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("snippet.ps1");
    std::fs::write(&path, source).expect("write snippet");
    analyze_file(&path)
}

/// The analysis of install.ps1 itself, computed once.
fn analysis() -> &'static Value {
    static ANALYSIS: OnceLock<Value> = OnceLock::new();
    ANALYSIS.get_or_init(|| analyze_file(&script_path()))
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("analyzer output has no array {key}"))
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("analyzer output has no string {key}: {v}"))
}

fn num_of(v: &Value, key: &str) -> usize {
    v[key]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or_else(|| panic!("analyzer output has no number {key}: {v}"))
}

/// Syntax errors as readable lines: kind, line:column, byte range and the text there.
fn syntax_errors(analysis: &Value) -> Vec<String> {
    let mut errors: Vec<String> = array(analysis, "errors")
        .iter()
        .map(|e| {
            format!(
                "{} at line {}:{} (bytes {}..{}): {:?}",
                str_of(e, "kind"),
                num_of(e, "line"),
                num_of(e, "column"),
                num_of(e, "start_byte"),
                num_of(e, "end_byte"),
                str_of(e, "text"),
            )
        })
        .collect();
    if errors.is_empty() && analysis["has_error"].as_bool() == Some(true) {
        errors.push("the tree has an error, but no ERROR or MISSING node was found".into());
    }
    errors
}

/// The script with every comment blanked out (byte offsets and lines unchanged).
fn code_only(text: &str, analysis: &Value) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in array(analysis, "comments") {
        let pair = range.as_array().expect("comment range");
        let start = pair[0]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .expect("start");
        let end = pair[1]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .expect("end");
        for b in &mut bytes[start..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    String::from_utf8(bytes).expect("install.ps1 is UTF-8")
}

/// The text between `begin` and `end`.
fn between<'a>(text: &'a str, begin: &str, end: &str) -> &'a str {
    let start = text
        .find(begin)
        .unwrap_or_else(|| panic!("install.ps1 has no {begin:?}"))
        + begin.len();
    let len = text[start..]
        .find(end)
        .unwrap_or_else(|| panic!("install.ps1 has no {end:?} after {begin:?}"));
    &text[start..start + len]
}

/// Entries `'key' = 'value'` of the one-line hashtable `$Targets = @{ ... }`.
fn targets_table(text: &str) -> BTreeMap<String, String> {
    let region = between(
        text,
        "# BEGIN GENERATED: targets\n",
        "# END GENERATED: targets",
    );
    let lines: Vec<&str> = region.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "the generated region must be one line `$Targets = @{{ ... }}`: {region:?}"
    );
    let body = lines[0]
        .strip_prefix("$Targets = @{ ")
        .and_then(|l| l.strip_suffix(" }"))
        .unwrap_or_else(|| panic!("not of the form `$Targets = @{{ ... }}`: {:?}", lines[0]));
    let unquote = |s: &str| -> String {
        s.trim()
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .unwrap_or_else(|| panic!("not a single-quoted string: {s:?}"))
            .to_string()
    };
    let mut table = BTreeMap::new();
    for entry in body.split(';') {
        let (k, v) = entry
            .split_once('=')
            .unwrap_or_else(|| panic!("not `'key' = 'value'`: {entry:?}"));
        assert!(
            table.insert(unquote(k), unquote(v)).is_none(),
            "duplicate key in {body:?}"
        );
    }
    table
}

/// Calls of `name` in source order, from the analysis.
fn calls_of<'a>(analysis: &'a Value, name: &str) -> Vec<&'a Value> {
    array(analysis, "commands")
        .iter()
        .filter(|c| str_of(c, "name").eq_ignore_ascii_case(name))
        .collect()
}

/// Arguments of a command that are not bound to a named parameter.
fn positional_args(command: &Value) -> Vec<String> {
    let elements = array(command, "elements");
    let mut out = Vec::new();
    let mut i = 0;
    while i < elements.len() {
        let kind = elements[i][0].as_str().unwrap_or_default();
        let text = elements[i][1].as_str().unwrap_or_default();
        match kind {
            "param" => {
                // Named: `-Name value` or `-Name:value` (no switches among the cmdlet parameters
                // this is used for).
                i += if elements.get(i + 1).is_some_and(|e| e[0] == "colon") {
                    3
                } else {
                    2
                };
                continue;
            }
            "arg" => out.push(text.to_string()),
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn install_ps1_parses_without_syntax_errors() {
    let errors = syntax_errors(analysis());
    assert!(
        errors.is_empty(),
        "install.ps1 does not parse:\n{}",
        errors.join("\n")
    );
}

#[test]
fn a_broken_copy_fails_the_syntax_check() {
    let text = script();
    // The closing brace of the first function.
    let start = text
        .find("function Write-Step {")
        .expect("Write-Step is defined");
    let close = start + text[start..].find("\n}\n").expect("its closing brace") + 1;
    let mut no_brace = text.clone();
    no_brace.remove(close);
    // The closing parenthesis of the script's param block.
    let params = text.find("param(\n").expect("a param block");
    let paren = params + text[params..].find("\n)\n").expect("its end") + 1;
    let mut no_paren = text.clone();
    no_paren.remove(paren);
    // The closing quote of a string.
    let quote = text.find("latest\"\n").expect("a string ending in latest") + "latest".len();
    let mut no_quote = text.clone();
    no_quote.remove(quote);

    for (what, broken) in [
        ("a missing }", no_brace),
        ("a missing )", no_paren),
        ("a missing \"", no_quote),
    ] {
        let errors = syntax_errors(&analyze(&broken));
        assert!(
            !errors.is_empty(),
            "the syntax check accepted install.ps1 with {what}"
        );
    }
}

#[test]
fn uses_no_syntax_that_windows_powershell_5_1_lacks() {
    // Node types of PowerShell 7-only syntax: `??`, `? :`, `??=`, `&&` / `||`.
    const PS7_ONLY: [&str; 4] = [
        "null_coalesce_expression",
        "ternary_expression",
        "??=",
        "pipeline_chain_tail",
    ];
    // The grammar does name them so (or this check would pass vacuously).
    let control = analyze("$a = $b ?? 1\n$c = $d ? 1 : 2\n$e ??= 3\ngit fetch && git pull\n");
    for kind in PS7_ONLY {
        assert!(
            control["types"].get(kind).is_some(),
            "the grammar no longer produces {kind}: {}",
            control["types"]
        );
    }
    let found: Vec<&str> = PS7_ONLY
        .into_iter()
        .filter(|k| analysis()["types"].get(*k).is_some())
        .collect();
    assert!(
        found.is_empty(),
        "install.ps1 uses PowerShell 7-only syntax: {found:?}"
    );

    let text = script();
    let code = code_only(&text, analysis());
    assert!(
        !code.to_ascii_lowercase().contains("-parallel"),
        "-Parallel is PowerShell 7-only"
    );
    // Windows PowerShell 5.1 reads a file without a byte order mark as ANSI.
    let non_ascii: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.is_ascii())
        .map(|(i, l)| (i + 1, l))
        .collect();
    assert!(
        non_ascii.is_empty(),
        "non-ASCII lines would be garbled by Windows PowerShell 5.1: {non_ascii:?}"
    );
    // `"$name:"` is a parse error in PowerShell (a drive-qualified variable), though tree-sitter
    // accepts it: `${name}:` is needed.
    let bytes = code.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bad = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'$' {
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() && word(bytes[j]) {
            j += 1;
        }
        if j > i + 1
            && bytes.get(j) == Some(&b':')
            && !bytes
                .get(j + 1)
                .is_some_and(|&n| word(n) || n == b':' || n == b'{')
        {
            bad.push(String::from_utf8_lossy(&bytes[i..(j + 1).min(bytes.len())]).into_owned());
        }
    }
    assert!(
        bad.is_empty(),
        "variable references PowerShell rejects (use ${{name}}:): {bad:?}"
    );

    for needle in [
        "Set-StrictMode -Version Latest",
        "$ErrorActionPreference = 'Stop'",
        "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12",
    ] {
        assert!(code.contains(needle), "install.ps1 lacks {needle:?}");
    }
    for call in calls_of(analysis(), "Invoke-WebRequest") {
        // Splatted: the -UseBasicParsing switch is in the hashtable (checked below).
        assert!(
            array(call, "elements")
                .iter()
                .any(|e| e[1].as_str().is_some_and(|t| t.starts_with('@'))),
            "Invoke-WebRequest without the splatted request at line {}",
            num_of(call, "line")
        );
    }
    assert!(code.contains("$request['UseBasicParsing'] = $true"));
}

/// Parameters of the cmdlets install.ps1 may use, as Windows PowerShell 5.1 has them. A command
/// missing here is either a typo or needs adding (after checking that 5.1 has it); a parameter
/// missing here may be PowerShell 7-only (such as Invoke-WebRequest -SkipHttpErrorCheck,
/// ConvertFrom-Json -AsHashtable or Join-Path -AdditionalChildPath).
const CMDLETS_5_1: &[(&str, &[&str])] = &[
    (
        "Add-Type",
        &[
            "AssemblyName",
            "Namespace",
            "Name",
            "MemberDefinition",
            "TypeDefinition",
            "UsingNamespace",
            "PassThru",
        ],
    ),
    ("ConvertFrom-Json", &["InputObject"]),
    ("ConvertTo-Json", &["InputObject", "Depth", "Compress"]),
    (
        "Copy-Item",
        &[
            "Path",
            "LiteralPath",
            "Destination",
            "Force",
            "Recurse",
            "PassThru",
        ],
    ),
    ("ForEach-Object", &["Process", "Begin", "End", "MemberName"]),
    (
        "Get-ChildItem",
        &[
            "Path",
            "LiteralPath",
            "Filter",
            "Directory",
            "File",
            "Force",
            "Recurse",
        ],
    ),
    ("Get-Command", &["Name", "CommandType", "All"]),
    ("Get-Date", &[]),
    ("Get-FileHash", &["Path", "LiteralPath", "Algorithm"]),
    (
        "Get-AuthenticodeSignature",
        &[
            "FilePath",
            "LiteralPath",
            "Content",
            "SourcePathOrExtension",
        ],
    ),
    ("Get-Item", &["Path", "LiteralPath", "Force"]),
    ("Get-ItemProperty", &["Path", "LiteralPath", "Name"]),
    ("Get-Process", &["Id", "Name"]),
    ("Get-Variable", &["Name", "ValueOnly", "Scope"]),
    (
        "Invoke-WebRequest",
        &[
            "Uri",
            "OutFile",
            "UseBasicParsing",
            "Proxy",
            "ProxyCredential",
            "Headers",
            "Method",
            "TimeoutSec",
            "MaximumRedirection",
            "UserAgent",
        ],
    ),
    ("Join-Path", &["Path", "ChildPath"]),
    (
        "Move-Item",
        &["Path", "LiteralPath", "Destination", "Force", "PassThru"],
    ),
    ("New-Item", &["Path", "Name", "ItemType", "Value", "Force"]),
    ("New-Object", &["TypeName", "ArgumentList", "Property"]),
    ("Remove-Item", &["Path", "LiteralPath", "Recurse", "Force"]),
    (
        "Select-Object",
        &["First", "Last", "Skip", "Property", "ExpandProperty"],
    ),
    ("Set-StrictMode", &["Version", "Off"]),
    ("Sort-Object", &["Property", "Descending", "Unique"]),
    ("Split-Path", &["Path", "LiteralPath", "Leaf", "Parent"]),
    ("Start-Sleep", &["Seconds", "Milliseconds"]),
    ("Test-Path", &["Path", "LiteralPath", "PathType"]),
    ("Where-Object", &["FilterScript"]),
    (
        "Write-Host",
        &["Object", "NoNewline", "ForegroundColor", "BackgroundColor"],
    ),
    ("Write-Verbose", &["Message"]),
];

const COMMON_PARAMETERS: &[&str] = &[
    "ErrorAction",
    "WarningAction",
    "ErrorVariable",
    "OutVariable",
    "Verbose",
    "Debug",
];

fn param_name(element: &str) -> String {
    element
        .trim_start_matches('-')
        .trim_end_matches(':')
        .to_string()
}

#[test]
fn every_command_exists_in_5_1_and_gets_parameters_it_declares() {
    let analysis = analysis();
    let functions: BTreeMap<String, &Value> = array(analysis, "functions")
        .iter()
        .map(|f| (str_of(f, "name").to_ascii_lowercase(), f))
        .collect();
    let cmdlets: BTreeMap<String, &[&str]> = CMDLETS_5_1
        .iter()
        .map(|(n, p)| (n.to_ascii_lowercase(), *p))
        .collect();
    let mut problems = Vec::new();
    let mut called = BTreeSet::new();
    for command in array(analysis, "commands") {
        let name = str_of(command, "name");
        let line = num_of(command, "line");
        let key = name.to_ascii_lowercase();
        let elements = array(command, "elements");
        if let Some(function) = functions.get(&key) {
            called.insert(key.clone());
            // A simple function binds unknown named arguments to $args without complaint, so a
            // misspelt parameter would silently leave the real one empty.
            let params = array(function, "params");
            let is_switch = |p: &str| {
                params.iter().any(|d| {
                    str_of(d, "name").eq_ignore_ascii_case(p)
                        && array(d, "types")
                            .iter()
                            .any(|t| t.as_str() == Some("switch"))
                })
            };
            let mut bound_values = 0;
            let mut i = 0;
            while i < elements.len() {
                let kind = elements[i][0].as_str().unwrap_or_default();
                let text = elements[i][1].as_str().unwrap_or_default();
                if kind == "param" {
                    let p = param_name(text);
                    if !params
                        .iter()
                        .any(|d| str_of(d, "name").eq_ignore_ascii_case(&p))
                    {
                        problems.push(format!(
                            "line {line}: {name} has no parameter -{p} (it declares {:?})",
                            params.iter().map(|d| str_of(d, "name")).collect::<Vec<_>>()
                        ));
                    }
                    let colon = elements.get(i + 1).is_some_and(|e| e[0] == "colon");
                    if colon {
                        i += 3;
                    } else if is_switch(&p) {
                        i += 1;
                    } else {
                        i += 2;
                    }
                    if !is_switch(&p) {
                        bound_values += 1;
                    }
                    continue;
                }
                if kind == "arg" {
                    bound_values += 1;
                }
                i += 1;
            }
            let value_params = params
                .iter()
                .filter(|d| {
                    !array(d, "types")
                        .iter()
                        .any(|t| t.as_str() == Some("switch"))
                })
                .count();
            if bound_values > value_params {
                problems.push(format!(
                    "line {line}: {name} gets {bound_values} values but takes {value_params}"
                ));
            }
        } else if let Some(allowed) = cmdlets.get(&key) {
            for e in elements.iter().filter(|e| e[0] == "param") {
                let p = param_name(e[1].as_str().unwrap_or_default());
                let known = allowed
                    .iter()
                    .chain(COMMON_PARAMETERS)
                    .any(|a| a.eq_ignore_ascii_case(&p));
                if !known {
                    problems.push(format!(
                        "line {line}: {name} -{p} is not a Windows PowerShell 5.1 parameter this test knows"
                    ));
                }
            }
            if key == "join-path" && positional_args(command).len() > 2 {
                problems.push(format!(
                    "line {line}: Join-Path with more than two paths needs PowerShell 7"
                ));
            }
        } else {
            problems.push(format!(
                "line {line}: unknown command {name} (neither defined in install.ps1 nor a known 5.1 cmdlet)"
            ));
        }
    }
    for name in functions.keys() {
        if !called.contains(name) {
            problems.push(format!("function {name} is defined but never called"));
        }
    }
    // Invoke-WebRequest is called with a splatted hashtable: check its keys too.
    let code = code_only(&script(), analysis);
    let iwr: &[&str] = cmdlets
        .get("invoke-webrequest")
        .copied()
        .expect("Invoke-WebRequest in the table");
    for var in ["$request['", "$result['"] {
        for (pos, _) in code.match_indices(var) {
            let rest = &code[pos + var.len()..];
            let key = &rest[..rest.find('\'').expect("closing quote")];
            if !iwr.contains(&key) {
                problems.push(format!(
                    "Invoke-WebRequest parameter {key} (splatted) is not known for 5.1"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Variables PowerShell defines itself.
const AUTOMATIC: &[&str] = &[
    "_",
    "PSItem",
    "true",
    "false",
    "null",
    "PID",
    "PSVersionTable",
    "ExecutionContext",
    "Host",
    "LASTEXITCODE",
    "ErrorActionPreference",
    "ProgressPreference",
    "args",
    "Matches",
];

#[test]
fn every_variable_read_is_assigned_in_its_function_or_at_the_top() {
    // Under Set-StrictMode -Version Latest, reading a variable that nothing assigned is an error
    // at run time. A function may read its own parameters and locals, and the top-level settings
    // of the script block ($Targets, $Binaries, ...), never another function's locals.
    let analysis = analysis();
    let functions: Vec<(usize, usize, String)> = array(analysis, "functions")
        .iter()
        .map(|f| {
            (
                num_of(f, "start_byte"),
                num_of(f, "end_byte"),
                str_of(f, "name").to_string(),
            )
        })
        .collect();
    let owner = |byte: usize| -> Option<usize> {
        functions
            .iter()
            .enumerate()
            .filter(|(_, (s, e, _))| *s <= byte && byte < *e)
            .min_by_key(|(_, (s, e, _))| e - s)
            .map(|(i, _)| i)
    };
    let normalize = |name: &str| -> Option<String> {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("env:") {
            return None;
        }
        let bare = ["global:", "script:", "local:", "private:"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .unwrap_or(&lower);
        Some(bare.to_string())
    };
    let mut top = BTreeSet::new();
    let mut local: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for v in array(analysis, "variables") {
        if v["assigned"].as_bool() != Some(true) {
            continue;
        }
        let Some(name) = normalize(str_of(v, "name")) else {
            continue;
        };
        match owner(num_of(v, "start_byte")) {
            Some(f) => {
                local.entry(f).or_default().insert(name);
            }
            None => {
                top.insert(name);
            }
        }
    }
    let automatic: BTreeSet<String> = AUTOMATIC.iter().map(|a| a.to_ascii_lowercase()).collect();
    let mut unassigned = Vec::new();
    for v in array(analysis, "variables") {
        let Some(name) = normalize(str_of(v, "name")) else {
            continue;
        };
        if automatic.contains(&name) || top.contains(&name) {
            continue;
        }
        let owner = owner(num_of(v, "start_byte"));
        let ok = owner.is_some_and(|f| local.get(&f).is_some_and(|s| s.contains(&name)));
        if !ok {
            let scope = owner.map_or("the top level", |f| functions[f].2.as_str());
            unassigned.push(format!(
                "line {}: ${} in {scope}",
                num_of(v, "line"),
                str_of(v, "name")
            ));
        }
    }
    assert!(
        unassigned.is_empty(),
        "variables read but never assigned where they are visible:\n{}",
        unassigned.join("\n")
    );
}

#[test]
fn target_table_matches_the_rust_target_table() {
    let table = targets_table(&script());
    let windows: BTreeMap<String, String> = TARGETS
        .iter()
        .filter(|t| t.os == Os::Windows)
        .map(|t| {
            let arch = match t.arch {
                Arch::X86_64 => "x64",
                Arch::Aarch64 => "arm64",
            };
            (arch.to_string(), t.triple.to_string())
        })
        .collect();
    assert_eq!(
        table, windows,
        "install.ps1's $Targets differs from the Windows rows of codex_installer::target::TARGETS"
    );
    // The archive and entry names the script builds from the triple.
    for target in TARGETS.iter().filter(|t| t.os == Os::Windows) {
        for binary in Binary::ALL {
            assert_eq!(
                target.archive_name(binary),
                format!("{}-{}.zip", binary.name(), target.triple)
            );
            assert_eq!(
                target.entry_name(binary),
                format!("{}-{}.exe", binary.name(), target.triple)
            );
            assert_eq!(
                target.installed_name(binary),
                format!("{}.exe", binary.name())
            );
        }
    }
    let code = code_only(&script(), analysis());
    assert!(code.contains("$expectedArchive = \"$Binary-$Target.zip\""));
    assert!(code.contains("$expectedEntry = \"$Binary-$Target.exe\""));
    let names: Vec<String> = Binary::ALL
        .iter()
        .map(|b| format!("'{}'", b.name()))
        .collect();
    assert!(
        code.contains(&format!("$Binaries = @({})", names.join(", "))),
        "$Binaries must list {names:?}, as codex_installer::target::Binary::ALL does"
    );
    // The architecture is the machine's, even under x64 emulation on ARM.
    let detect = between(&code, "function Get-NativeArch {", "\n}\n");
    let order = [
        "RuntimeInformation",
        "OSArchitecture",
        "PROCESSOR_ARCHITEW6432",
        r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Environment",
        "Get-Env 'PROCESSOR_ARCHITECTURE'",
        "-contains 'arm64'",
    ];
    let mut at = 0;
    for needle in order {
        let found = detect[at..].find(needle).unwrap_or_else(|| {
            panic!("Get-NativeArch lacks {needle:?} (in this order: {order:?})")
        });
        at += found + needle.len();
    }
    let unsupported = between(&code, "function Get-Target {", "\n}\n");
    assert!(unsupported.contains("releases exist for: $list"));
}

#[test]
fn archives_are_verified_before_extraction_and_only_one_entry_is_extracted() {
    let text = script();
    let analysis = analysis();
    let code = code_only(&text, analysis);
    let hash = code.find("Get-FileHash").expect("Get-FileHash is used");
    let extract = code.find("ExtractToFile").expect("ExtractToFile is used");
    assert!(
        hash < extract,
        "Get-FileHash must come before ExtractToFile"
    );
    let lower = text.to_ascii_lowercase();
    assert!(
        !lower.contains("expand-archive"),
        "Expand-Archive extracts every entry; install.ps1 must extract exactly one"
    );

    // Each extraction is preceded by the digest check of the same archive, after its download.
    let commands = array(analysis, "commands");
    let mut extractions = 0;
    for (i, command) in commands.iter().enumerate() {
        if str_of(command, "name") != "Expand-SingleEntry" {
            continue;
        }
        extractions += 1;
        let zip = positional_args(command)
            .first()
            .cloned()
            .expect("Expand-SingleEntry gets the zip first");
        let before = &commands[..i];
        let check = before
            .iter()
            .rposition(|c| {
                str_of(c, "name") == "Assert-Sha256" && positional_args(c).first() == Some(&zip)
            })
            .unwrap_or_else(|| panic!("{zip} is extracted without Assert-Sha256 before it"));
        let download = before
            .iter()
            .rposition(|c| {
                str_of(c, "name") == "Invoke-Download" && positional_args(c).get(1) == Some(&zip)
            })
            .unwrap_or_else(|| panic!("no download of {zip}"));
        assert!(
            download < check,
            "{zip} must be downloaded, then verified, then extracted"
        );
        // And the extracted program is checked against the manifest's entry digest.
        let after = &commands[i + 1..];
        assert!(
            after
                .iter()
                .take(2)
                .any(|c| str_of(c, "name") == "Assert-Sha256"
                    && positional_args(c).get(1).map(String::as_str)
                        == Some("$artifact.EntrySha256")),
            "the extracted entry's SHA-256 must be checked right after extracting it"
        );
    }
    assert_eq!(
        extractions, 1,
        "one Expand-SingleEntry call, in the download loop"
    );

    let expand = between(&code, "function Expand-SingleEntry {", "\n}\n");
    for needle in [
        "[System.IO.Compression.ZipFile]::OpenRead($ZipPath)",
        "if ($entries.Count -ne 1)",
        "($name -cne $EntryName)",
        "$name.Contains('/')",
        "$name.Contains('\\')",
        "$name.Contains('..')",
        "[System.IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $Destination, $true)",
    ] {
        assert!(
            expand.contains(needle),
            "Expand-SingleEntry lacks {needle:?}"
        );
    }
    let digest = between(&code, "function Assert-Sha256 {", "\n}\n");
    assert!(
        digest.contains("$Expected") && digest.contains("$actual"),
        "a digest mismatch must name both digests"
    );
    assert!(code.contains("Get-FileHash -LiteralPath $Path -Algorithm SHA256"));
}

#[test]
fn nothing_downloaded_is_evaluated() {
    let analysis = analysis();
    let code = code_only(&script(), analysis);
    for command in array(analysis, "commands") {
        let name = str_of(command, "name").to_ascii_lowercase();
        assert!(
            name != "invoke-expression" && name != "iex",
            "install.ps1 runs Invoke-Expression at line {}",
            num_of(command, "line")
        );
    }
    let lower = code.to_ascii_lowercase();
    for needle in [
        "invoke-expression",
        "[scriptblock]::create",
        "invoke-restmethod",
        "| iex",
    ] {
        assert!(
            !lower.contains(needle),
            "install.ps1's code (not its help) contains {needle:?}"
        );
    }
}

#[test]
fn path_update_keeps_reg_expand_sz_and_broadcasts_the_change() {
    let code = code_only(&script(), analysis());
    let path = between(&code, "function Add-ToUserPath {", "\n}\n");
    for needle in [
        "[Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment', $true)",
        "$key.GetValue('Path', '', 'DoNotExpandEnvironmentNames')",
        "$key.SetValue('Path', $new, 'ExpandString')",
        "Send-EnvironmentChange",
    ] {
        assert!(path.contains(needle), "Add-ToUserPath lacks {needle:?}");
    }
    let broadcast = between(&code, "function Send-EnvironmentChange {", "\n}\n");
    for needle in [
        "SendMessageTimeout(",
        "[IntPtr]0xffff",
        "0x1A",
        "'Environment'",
        "Add-Type",
    ] {
        assert!(
            broadcast.contains(needle),
            "Send-EnvironmentChange lacks {needle:?}"
        );
    }
    let lower = code.to_ascii_lowercase();
    assert!(
        !lower.contains("setx") && !lower.contains("setenvironmentvariable('path'"),
        "PATH must be written through the registry as REG_EXPAND_SZ, not with setx or SetEnvironmentVariable (REG_SZ)"
    );
    assert!(
        code.contains("$env:Path = "),
        "the session's PATH is updated too"
    );
    assert!(code.contains("$skipPath = $NoModifyPath.IsPresent"));
}

#[test]
fn default_version_is_latest_exactly_once() {
    let text = script();
    let exact = text
        .lines()
        .filter(|l| *l == "$DefaultVersion = 'latest'")
        .count();
    assert_eq!(
        exact, 1,
        "the release build rewrites the one line `$DefaultVersion = 'latest'`"
    );
    assert_eq!(text.matches("$DefaultVersion =").count(), 1);
    let code = code_only(&text, analysis());
    assert!(code.contains("$requested = $DefaultVersion"));
}

#[test]
fn every_parameter_has_a_documented_environment_variable() {
    let text = script();
    let analysis = analysis();
    let code = code_only(&text, analysis);
    let help = between(&text, "<#", "#>");
    let params: Vec<&str> = array(analysis, "script_params")
        .iter()
        .map(|p| str_of(p, "name"))
        .collect();
    assert_eq!(
        params,
        [
            "Version",
            "InstallDir",
            "BaseUrl",
            "NoModifyPath",
            "RequireSignature",
            "AllowDowngrade"
        ],
        "the script's parameters"
    );
    let last = text.trim_end().lines().last().expect("a last line");
    for param in &params {
        let marker = format!(".PARAMETER {param}\n");
        let section = between(help, &marker, "\n\n")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let env = section
            .split("Environment variable: ")
            .nth(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect::<String>()
            })
            .unwrap_or_else(|| panic!(".PARAMETER {param} names no environment variable"));
        assert!(env.starts_with("CODEX_"), "{param}: {env}");
        assert!(
            code.contains(&format!("Get-Env '{env}'")),
            "-{param}'s variable {env} is documented but never read"
        );
        // The script block gets every parameter.
        assert!(
            last.contains(&format!("-{param} ${param}"))
                || last.contains(&format!("-{param}:${param}")),
            "the script block is not passed -{param}: {last}"
        );
    }
    // The variables the Rust installer reads are the same names.
    for var in [
        EnvVar::CodexHome,
        EnvVar::ReleaseBaseUrl,
        EnvVar::InstallDir,
    ] {
        assert!(
            code.contains(&format!("Get-Env '{}'", var.name())),
            "install.ps1 does not read {}",
            var.name()
        );
    }
    assert!(help.contains(&format!(
        "Default: {}.",
        codex_installer::source::default_base_url()
    )));
    assert!(code.contains(&format!(
        "$DefaultBaseUrl = '{}'",
        codex_installer::source::default_base_url()
    )));
}

#[test]
fn receipt_lock_and_layout_match_the_rust_installer() {
    let code = code_only(&script(), analysis());
    // The receipt's keys are exactly those of codex_installer::layout::Receipt.
    let receipt = Receipt {
        schema: 1,
        method: "standalone".into(),
        version: "1.2.3".into(),
        target: "x86_64-pc-windows-gnu".into(),
        release: "1.2.3-x86_64-pc-windows-gnu".into(),
        previous: None,
        source: "https://example.invalid".into(),
        bin_dir: PathBuf::from("bin"),
        installed_by: "install.ps1".into(),
        installed_at: 0,
    };
    let rust_keys: BTreeSet<String> = serde_json::to_value(&receipt)
        .expect("serialize")
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    let body = between(&code, "$receipt = [ordered]@{\n", "\n            }\n");
    let ps_keys: BTreeSet<String> = body
        .lines()
        .map(|l| {
            l.trim()
                .split_once(" = ")
                .unwrap_or_else(|| panic!("not `key = value`: {l:?}"))
                .0
                .to_string()
        })
        .collect();
    assert_eq!(ps_keys, rust_keys, "receipt.json keys");
    for needle in [
        "schema = 1\n",
        "method = 'standalone'\n",
        "installed_by = 'install.ps1'\n",
        "release = $release\n",
        "previous = $previous\n",
    ] {
        assert!(body.contains(needle), "the receipt lacks {needle:?}");
    }
    assert!(code.contains(&format!("$receiptPath = Join-Path $root '{RECEIPT_FILE}'")));
    // Written via a temporary file, without a BOM (serde_json refuses one).
    let write = between(&code, "function Write-Receipt {", "\n}\n");
    assert!(write.contains("New-Object System.Text.UTF8Encoding -ArgumentList $false"));
    assert!(write.contains("Move-Item -LiteralPath $tmp -Destination $Path -Force"));

    // Layout.
    for needle in [
        "$root = Join-Path $codexHome 'packages\\standalone'",
        "$releases = Join-Path $root 'releases'",
        "$stagingRoot = Join-Path $root '.staging'",
        "$lock = Join-Path $Root '.lock'",
        "$pidFile = Join-Path $lock 'pid'",
        "$release = \"$version-$target\"",
        "$codexHome = Join-Path $profileDir '.codex'",
        "$binDir = Join-Path $localAppData 'Programs\\codex\\bin'",
    ] {
        assert!(code.contains(needle), "install.ps1 lacks {needle:?}");
    }
    assert!(
        !code.contains("GetTempPath") && !code.to_ascii_lowercase().contains("$env:temp"),
        "staging belongs under the root, never in %TEMP%"
    );
    // The lock: the same message as codex_installer::layout::LockBusy.
    let busy = codex_installer::layout::LockBusy { pid: 42 }.to_string();
    let prefix = busy.split("(pid").next().expect("prefix");
    assert!(code.contains(&format!("{prefix}(pid $owner)")), "{busy}");
    let lock = between(&code, "function Enter-InstallLock {", "\n}\n");
    for needle in [
        "New-Item -ItemType Directory -Path $lock",
        "Get-Process -Id $owner -ErrorAction SilentlyContinue",
        "Remove-Item -LiteralPath $lock -Recurse -Force",
    ] {
        assert!(lock.contains(needle), "Enter-InstallLock lacks {needle:?}");
    }
    let install = between(&code, "function Install-Codex {", "\n}\n");
    let try_at = install
        .find("$lock = Enter-InstallLock $root")
        .expect("the lock");
    let finally = install[try_at..].find("} finally {").expect("a finally") + try_at;
    let cleanup = &install[finally..];
    assert!(cleanup.contains("Remove-Tree $work") && cleanup.contains("Exit-InstallLock $lock"));
    // Manifest and downloads, GitHub's layout.
    for needle in [
        "\"$base/latest/download/manifest.json\"",
        "\"$base/download/v$requested/manifest.json\"",
        "\"$base/download/v$version/$($artifact.ArchiveName)\"",
    ] {
        assert!(install.contains(needle), "Install-Codex lacks {needle:?}");
    }
    // The new program proves its version before anything is switched.
    let check = install
        .find("Invoke-VersionCheck (Join-Path $newDir")
        .expect("the staged codex.exe is run");
    let switch = install
        .find("Install-BinCopies $releaseDir $binDir")
        .expect("the switch");
    let receipt_at = install.find("Write-Receipt").expect("the receipt");
    assert!(check < switch && switch < receipt_at);
    let version_check = between(&code, "function Invoke-VersionCheck {", "\n}\n");
    assert!(version_check.contains("$raw.Contains(\" $Version \")"));
    // The Windows switch: rename the running copy away, then move the new one in.
    let bins = between(&code, "function Install-BinCopies {", "\n}\n");
    let rename = bins
        .find("Move-Item -LiteralPath $dest -Destination $old -Force")
        .expect("rename the old copy");
    let move_in = bins
        .find("Move-Item -LiteralPath $new -Destination $dest -Force")
        .expect("move the new copy in");
    assert!(rename < move_in);
    // The same temporary names as codex_installer's Windows switch, so each removes what the
    // other left behind.
    assert!(bins.contains("\"$name.old-$suffix\""));
    assert!(bins.contains("\".$name.new-$suffix\""));
    // Keep the current and the previous release.
    assert!(install.contains("Remove-OldReleases $releases @($release, $previous)"));
}

#[test]
fn plain_http_is_refused_unless_loopback_or_explicit() {
    let code = code_only(&script(), analysis());
    let check = between(&code, "function Assert-BaseUrl {", "\n}\n");
    let loopback = between(&code, "function Test-LoopbackUri {", "\n}\n");
    for needle in ["$Uri.IsLoopback", "'localhost'", "'::1'", "'^127\\.'"] {
        assert!(
            loopback.contains(needle),
            "Test-LoopbackUri lacks {needle:?}"
        );
    }
    let https = check.find("-eq 'https'").expect("https passes");
    let loop_ok = check
        .find("Test-LoopbackUri $uri")
        .expect("loopback passes");
    let refuse = check.find("if (-not $Explicit)").expect("http is refused");
    assert!(https < loop_ok && loop_ok < refuse);
    let install = between(&code, "function Install-Codex {", "\n}\n");
    assert!(install.contains("$explicitBase = [bool]$base"));
    assert!(install.contains("Assert-BaseUrl $base $explicitBase"));
    // Proxies from the environment, never for loopback.
    let proxy = between(&code, "function Get-ProxyArgs {", "\n}\n");
    for needle in [
        "'HTTPS_PROXY'",
        "'https_proxy'",
        "Test-LoopbackUri $Uri",
        "$result['Proxy']",
    ] {
        assert!(proxy.contains(needle), "Get-ProxyArgs lacks {needle:?}");
    }
}

/// Offset of `needle` in `haystack`, or a panic naming `what`.
fn offset(haystack: &str, needle: &str, what: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{what} lacks {needle:?}"))
}

#[test]
fn the_manifest_signature_is_verified_before_any_digest_is_read() {
    let code = code_only(&script(), analysis());
    let install = between(&code, "function Install-Codex {", "\n}\n");
    let what = "Install-Codex";
    // In this order: the verifier is found before anything is locked or downloaded, the manifest
    // and its signature are downloaded, the signature is checked, and only then are the
    // artifacts and their digests read from the manifest and the archives downloaded.
    let order = [
        "$openssl = Get-SignatureVerifier",
        "$lock = Enter-InstallLock $root",
        "Invoke-Download $manifestUrl $manifestPath $hint",
        "if ($openssl) {",
        "$sigUrl = \"$base/download/v$version/manifest.json.sig\"",
        "Invoke-Download $sigUrl $sigPath ",
        "$signer = Assert-ManifestSignature $openssl $manifestPath $sigPath \"v$version\"",
        "} else {",
        "Write-Note \"the signature of release v$version was not verified, only the SHA-256 checksums",
        "Get-Artifact $manifest $binary $target $version",
        "Invoke-Download \"$base/download/v$version/$($artifact.ArchiveName)\"",
    ];
    let mut at = 0;
    for needle in order {
        at += offset(&install[at..], needle, what) + needle.len();
    }
    // The parse tree agrees: the first Get-Artifact call follows the signature check.
    let commands = array(analysis(), "commands");
    let first = |name: &str| {
        commands
            .iter()
            .position(|c| str_of(c, "name") == name)
            .unwrap_or_else(|| panic!("{name} is never called"))
    };
    assert!(first("Assert-ManifestSignature") < first("Get-Artifact"));
    // Digests are read from the manifest in Get-Artifact only.
    let get_artifact = between(&code, "function Get-Artifact {", "\n}\n");
    assert_eq!(code.matches("'sha256'").count(), 2, "sha256 read elsewhere");
    assert_eq!(get_artifact.matches("'sha256'").count(), 2);
    // A bad signature is fatal (Assert-ManifestSignature throws; nothing catches it before the
    // outer handler, whose finally removes the staging folder).
    let verify = between(&code, "function Assert-ManifestSignature {", "\n}\n");
    let tries = offset(
        verify,
        "foreach ($trusted in $TrustedKeys) {",
        "Assert-ManifestSignature",
    );
    let refuse = offset(
        verify,
        "throw \"release ${Release}'s manifest.json was not signed by any trusted key (trusted: $ids)",
        "Assert-ManifestSignature",
    );
    assert!(tries < refuse);
    assert!(
        verify.contains("($size -ne 64)"),
        "a malformed signature is refused"
    );
    assert!(verify[refuse..].contains("nothing was installed"));
    // The signature's 404 says that the release is unsigned.
    assert!(
        install.contains(
            "release v$version is not signed, so it is refused and nothing was installed"
        )
    );
}

#[test]
fn only_openssl_3_or_later_is_used_to_verify_signatures() {
    let code = code_only(&script(), analysis());
    let find = between(&code, "function Get-SignatureVerifier {", "\n}\n");
    for needle in [
        "Get-Command -Name 'openssl' -CommandType Application",
        "Invoke-Program $path @('version')",
        "($result.ExitCode -eq 0)",
        "($result.Output -match '^OpenSSL ([0-9]+)\\.')",
        "([int]$Matches[1] -ge 3)",
        "return $path",
    ] {
        assert!(
            find.contains(needle),
            "Get-SignatureVerifier lacks {needle:?}"
        );
    }
    let verify = between(&code, "function Assert-ManifestSignature {", "\n}\n");
    assert!(
        verify.contains("($result.ExitCode -eq 0) -and ($result.Output -match 'Signature Verified Successfully')"),
        "a verification passes only on openssl's exit code 0 and its success message"
    );
    // ProcessStartInfo.Arguments is one string: every argument is quoted (paths may hold spaces).
    let run = between(&code, "function Invoke-Program {", "\n}\n");
    assert!(run.contains(
        "$info.Arguments = (@($Arguments | ForEach-Object { '\"' + $_ + '\"' }) -join ' ')"
    ));
}

/// The argument list of the `Invoke-Program $OpenSsl @(...)` call in Assert-ManifestSignature
/// whose first argument is `first`, with the script's variables replaced by `vars`.
fn openssl_args(verify: &str, first: &str, vars: &[(&str, &Path)]) -> Vec<String> {
    let prefix = "Invoke-Program $OpenSsl @(";
    let call = format!("{prefix}'{first}', ");
    let start = offset(verify, &call, "Assert-ManifestSignature") + prefix.len();
    let list = &verify[start..start + verify[start..].find(')').expect("the list's end")];
    list.split(", ")
        .map(|arg| {
            if let Some(literal) = arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
                return literal.to_owned();
            }
            let (_, path) = vars
                .iter()
                .find(|(name, _)| *name == arg)
                .unwrap_or_else(|| panic!("unexpected argument {arg} to openssl {first}"));
            path.display().to_string()
        })
        .collect()
}

fn openssl(args: &[String]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (OpenSSL 3 is needed for this test)")
}

#[test]
fn the_openssl_commands_of_install_ps1_accept_a_good_signature_and_refuse_bad_ones() {
    let code = code_only(&script(), analysis());
    let verify = between(&code, "function Assert-ManifestSignature {", "\n}\n");
    // The PEM the script writes for each trusted key, filled in for a fresh key.
    let template = between(verify, "[System.IO.File]::WriteAllText($pem, \"", "\", ");
    let seed = codex_e2e::unknown_seed();
    let public = codex_installer::signature::public_key(&seed);
    let pem_text = codex_installer::signature::spki_pem(&public);
    let spki = pem_text.lines().nth(1).expect("the PEM's base64 line");
    let filled = template
        .replace("$($trusted.Spki)", spki)
        .replace("`n", "\n");
    assert_eq!(
        filled, pem_text,
        "install.ps1 writes the PEM of codex_installer"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("manifest.json");
    let sig = dir.path().join("manifest.json.sig");
    let sig_bin = dir.path().join("manifest.json.sig.bin");
    let pem = dir.path().join("trusted-key-0.pem");
    std::fs::write(&pem, &filled).expect("write pem");
    let vars: [(&str, &Path); 4] = [
        ("$SigPath", &sig),
        ("$sigBin", &sig_bin),
        ("$pem", &pem),
        ("$ManifestPath", &manifest),
    ];
    let decode = openssl_args(verify, "base64", &vars);
    let check = openssl_args(verify, "pkeyutl", &vars);
    let bytes = br#"{"schema": 1, "version": "1.2.3"}
"#;
    // Decodes and verifies as install.ps1 does; Ok(true) when openssl says the signature holds.
    let run = |data: &[u8], sig_file: &str| -> Result<bool, String> {
        std::fs::write(&manifest, data).expect("write manifest");
        std::fs::write(&sig, sig_file).expect("write sig");
        let _ = std::fs::remove_file(&sig_bin);
        let out = openssl(&decode);
        let size = std::fs::metadata(&sig_bin).map(|m| m.len()).unwrap_or(0);
        if !out.status.success() || size != 64 {
            return Err(format!("malformed ({size} bytes)"));
        }
        let out = openssl(&check);
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        Ok(out.status.success() && said.contains("Signature Verified Successfully"))
    };
    let good = codex_installer::signature::sign(&seed, bytes).to_sig_file();
    assert_eq!(run(bytes, &good), Ok(true), "a good signature verifies");
    let mut altered = bytes.to_vec();
    altered[30] ^= 1;
    assert_eq!(run(&altered, &good), Ok(false), "an altered manifest fails");
    let foreign = codex_installer::signature::sign(&codex_e2e::unknown_seed(), bytes).to_sig_file();
    assert_eq!(
        run(bytes, &foreign),
        Ok(false),
        "another key's signature fails"
    );
    assert!(
        run(bytes, "not a signature\n").is_err(),
        "junk is malformed"
    );
}

#[test]
fn require_signature_and_allow_downgrade_are_wired_to_their_environment_variables() {
    let text = script();
    let code = code_only(&text, analysis());
    let install = between(&code, "function Install-Codex {", "\n}\n");
    for needle in [
        format!(
            "$mustVerify = $RequireSignature.IsPresent -or (Test-Yes (Get-Env '{}'))",
            EnvVar::RequireSignature.name()
        ),
        format!(
            "$downgradeOk = $AllowDowngrade.IsPresent -or (Test-Yes (Get-Env '{}'))",
            EnvVar::AllowDowngrade.name()
        ),
    ] {
        assert!(install.contains(&needle), "Install-Codex lacks {needle:?}");
    }
    // Yes, as codex reads these variables: set, and not 0, false or no.
    let yes = between(&code, "function Test-Yes {", "\n}\n");
    assert!(yes.contains("([bool]$Value) -and ($Value -notmatch '^(0|false|no)$')"));
    // Every CODEX_ variable the script reads is one the Rust installer declares, but for the two
    // options that only the install scripts have (codex itself never reads them).
    let mut declared: BTreeSet<&str> = EnvVar::ALL.iter().map(|v| v.name()).collect();
    declared.extend(["CODEX_VERSION", "CODEX_NO_MODIFY_PATH"]);
    for (pos, _) in code.match_indices("Get-Env 'CODEX_") {
        let rest = &code[pos + "Get-Env '".len()..];
        let name = &rest[..rest.find('\'').expect("closing quote")];
        assert!(
            declared.contains(name),
            "install.ps1 reads {name}, which crates/installer/src/settings.rs does not declare"
        );
    }

    // -RequireSignature without a verifier: an error before the lock and any download.
    let refuse = offset(
        install,
        "if ((-not $openssl) -and $mustVerify) {",
        "Install-Codex",
    );
    let lock = offset(install, "$lock = Enter-InstallLock $root", "Install-Codex");
    let download = offset(install, "Invoke-Download ", "Install-Codex");
    assert!(refuse < lock && refuse < download);
    assert!(install[refuse..lock].contains("throw 'no signature verifier found"));

    // A downgrade is refused after the signature is checked and before any archive is
    // downloaded, with the Rust installer's message (its flag spelt as this script's parameter).
    let rust = codex_installer::install::InstallError::Downgrade {
        from: "$installedVersion".into(),
        to: "$version".into(),
    }
    .to_string()
    .replace("--allow-downgrade", "-AllowDowngrade");
    let message = format!("throw \"{rust}\"");
    let downgrade = offset(install, &message, "Install-Codex");
    let check = offset(
        install,
        "if ((-not $downgradeOk) -and ($installedVersion -match $VersionPattern) -and ((Compare-SemVer $version $installedVersion) -lt 0)) {",
        "Install-Codex",
    );
    let signed = offset(
        install,
        "Assert-ManifestSignature $openssl",
        "Install-Codex",
    );
    let archives = offset(
        install,
        "Invoke-Download \"$base/download/v$version/$($artifact.ArchiveName)\"",
        "Install-Codex",
    );
    assert!(signed < check && check < downgrade && downgrade < archives);
    assert!(install.contains("$installedVersion = [string](Get-Prop $old 'version')"));

    // The comparer handles pre-releases itself: SemanticVersion is PowerShell 7-only.
    let compare = between(&code, "function Compare-SemVer {", "\n}\n");
    assert!(!code.contains("[System.Management.Automation.SemanticVersion]"));
    for needle in [
        "-split '\\+', 2",
        "-split '-', 2",
        "if (-not $aPre) {\n        return 1",
        "if (-not $bPre) {\n        return -1",
        "$xNumeric = $x -match '^[0-9]+$'",
        "[string]::CompareOrdinal($x, $y)",
        "return [Math]::Sign($aIds.Count - $bIds.Count)",
    ] {
        assert!(compare.contains(needle), "Compare-SemVer lacks {needle:?}");
    }
}

#[test]
fn the_embedded_trusted_keys_are_the_installer_crates_trusted_keys() {
    let text = script();
    let region = between(
        &text,
        "# BEGIN GENERATED: trusted-keys (cargo xtask generate, from crates/installer/src/signature.rs)\n",
        "# END GENERATED: trusted-keys",
    );
    let mut lines = region.lines();
    assert_eq!(lines.next(), Some("$TrustedKeys = @("), "{region}");
    let mut keys = Vec::new();
    for line in lines {
        if line == ")" {
            break;
        }
        let body = line
            .trim()
            .trim_end_matches(',')
            .strip_prefix("@{ Id = '")
            .and_then(|l| l.strip_suffix("' }"))
            .unwrap_or_else(|| panic!("not `@{{ Id = '...'; Spki = '...' }}`: {line:?}"));
        let (id, spki) = body
            .split_once("'; Spki = '")
            .unwrap_or_else(|| panic!("no Spki in {line:?}"));
        keys.push((id.to_owned(), spki.to_owned()));
    }
    let expected: Vec<(String, String)> = codex_installer::signature::TRUSTED_KEYS
        .iter()
        .map(|k| {
            let pem = k.spki_pem().expect("a valid trusted key");
            (
                k.id.to_owned(),
                pem.lines().nth(1).expect("base64 line").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys, expected,
        "install.ps1's $TrustedKeys (run `cargo xtask generate`)"
    );
    assert!(
        !text.contains(codex_installer::signature::DEVELOPMENT_KEY.id),
        "the repository's install.ps1 must not trust the development key"
    );
}

#[test]
fn the_extracted_programs_authenticode_signature_is_checked_before_the_switch() {
    let text = script();
    let code = code_only(&text, analysis());
    // The publisher comes from the one declaration in the installer crate.
    let publisher = codex_installer::signature::RELEASE_PLATFORM_IDENTITY.windows_publisher;
    let region = between(
        &text,
        "# BEGIN GENERATED: expected-publisher (cargo xtask generate, from crates/installer/src/signature.rs)\n",
        "# END GENERATED: expected-publisher",
    );
    assert_eq!(
        region,
        format!("$ExpectedPublisher = '{}'\n", publisher.replace('\'', "''"))
    );
    // The check itself: Windows' verdict must be Valid and the signer the release's publisher.
    let body = between(&code, "function Assert-Authenticode {", "\n}\n");
    for needed in [
        "Get-AuthenticodeSignature -LiteralPath $Exe",
        "$status -ne 'Valid'",
        "$publisher -cne $ExpectedPublisher",
        "if ($SignedRelease -and ($Version -eq $DefaultVersion))",
    ] {
        assert!(
            body.contains(needed),
            "Assert-Authenticode lacks `{needed}`"
        );
    }
    // Called on every program right after extraction, before the release folder is moved in
    // and the copies in the bin dir are switched.
    let call = code
        .find("Assert-Authenticode $exe $version")
        .expect("Assert-Authenticode is called");
    let extract = code
        .find("Expand-SingleEntry $zipPath")
        .expect("extraction");
    let move_in = code
        .find("Move-Directory $newDir $releaseDir")
        .expect("move in");
    let switch = code
        .find("Install-BinCopies $releaseDir $binDir")
        .expect("switch");
    assert!(extract < call && call < move_in && move_in < switch);

    // The release build pins $SignedRelease; the pinned script still parses.
    assert_eq!(
        text.lines()
            .filter(|l| *l == "$SignedRelease = $false")
            .count(),
        1
    );
    let version = semver::Version::new(1, 2, 3);
    let keys = codex_installer::signature::TRUSTED_KEYS;
    for signed in [false, true] {
        let pinned = xtask::dist::InstallScript::Ps1
            .pinned(&codex_e2e::workspace_root(), &version, keys, signed)
            .expect("pinned");
        assert!(pinned.contains(&format!("\n$SignedRelease = ${signed}\n")));
        let a = analyze(&pinned);
        assert_eq!(a["has_error"], false, "{:?}", syntax_errors(&a));
    }
}
