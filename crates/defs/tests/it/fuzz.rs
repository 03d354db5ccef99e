//! Property tests: arbitrary bytes, and random mutations of the shipped definitions (byte flips,
//! truncation, splices, line edits), never panic the loader, and every outcome keeps the
//! loader's invariants. Case counts keep the whole file to a few seconds; raise them with
//! `PROPTEST_CASES` for a longer run.

use std::path::Path;
use std::sync::OnceLock;

use idflow_defs::{code_info, load, Loaded};
use proptest::prelude::*;

fn shipped() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../definitions");
        let files = idflow_defs::find_definition_files(&dir).expect("definitions/");
        assert!(!files.is_empty());
        files
            .iter()
            .map(|p| std::fs::read(p).expect("readable"))
            .collect()
    })
}

fn check_invariants(loaded: &Loaded) -> Result<(), TestCaseError> {
    prop_assert_eq!(loaded.definition.is_some(), !loaded.has_errors());
    for d in &loaded.diagnostics {
        let info = code_info(d.code);
        prop_assert!(info.is_some(), "unknown code {}", d.code);
        prop_assert!(d.line >= 1 && d.column >= 1);
        prop_assert!(!d.to_string().contains('\n'));
    }
    if let Some(definition) = &loaded.definition {
        // A loaded definition is walkable: every flow's ends exist, the start exists.
        prop_assert!(definition.node(&definition.start().id).is_some());
        for flow in definition.flows() {
            prop_assert!(definition.node(&flow.source).is_some());
            prop_assert!(definition.node(&flow.target).is_some());
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Truncate {
        at: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    /// Copies a range of the file (or of another shipped file) over another position.
    Splice {
        from_file: usize,
        from: usize,
        len: usize,
        at: usize,
    },
    /// Removes, duplicates or swaps whole lines: keeps the XML well-formed more often, so the
    /// semantic checks see the damage.
    DropLine {
        line: usize,
    },
    DuplicateLine {
        line: usize,
    },
    SwapLines {
        a: usize,
        b: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = any::<prop::sample::Index>().prop_map(|i| i.index(usize::MAX / 2));
    prop_oneof![
        (idx.clone(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        idx.clone().prop_map(|at| Mutation::Truncate { at }),
        (idx.clone(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (idx.clone(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (idx.clone(), idx.clone(), 1usize..200, idx.clone()).prop_map(
            |(from_file, from, len, at)| Mutation::Splice {
                from_file,
                from,
                len,
                at
            }
        ),
        idx.clone().prop_map(|line| Mutation::DropLine { line }),
        idx.clone()
            .prop_map(|line| Mutation::DuplicateLine { line }),
        (idx.clone(), idx).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation, files: &[Vec<u8>]) {
    let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
    match m {
        Mutation::Flip { at, byte } => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = *byte;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(pos(*at, bytes.len())),
        Mutation::Delete { at, len } => {
            let start = pos(*at, bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Insert { at, bytes: new } => {
            let at = pos(*at, bytes.len());
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Splice {
            from_file,
            from,
            len,
            at,
        } => {
            let source = &files[from_file % files.len()];
            let start = pos(*from, source.len());
            let piece: Vec<u8> = source[start..(start + len).min(source.len())].to_vec();
            let at = pos(*at, bytes.len());
            let end = (at + piece.len()).min(bytes.len());
            bytes.splice(at..end, piece);
        }
        Mutation::DropLine { line } | Mutation::DuplicateLine { line } => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let i = line % lines.len();
            if matches!(m, Mutation::DropLine { .. }) {
                lines.remove(i);
            } else {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            *bytes = lines.join(&b'\n');
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            *bytes = lines.join(&b'\n');
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        check_invariants(&load("fuzz.bpmn", &bytes))?;
    }

    #[test]
    fn xml_looking_noise_never_panics(
        parts in prop::collection::vec(
            prop_oneof![
                Just("<".to_string()), Just(">".to_string()), Just("</".to_string()), Just("/>".to_string()),
                Just("<bpmn:process id=\"p\">".to_string()), Just("<bpmn:startEvent id=\"s\"/>".to_string()),
                Just("xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"".to_string()),
                Just("&lt;&lt;processvar.".to_string()), Just("&#0;".to_string()), Just("&bogus;".to_string()),
                Just("<![CDATA[".to_string()), Just("]]>".to_string()), Just("<!--".to_string()),
                Just("<?xml version=\"1.0\" encoding=\"UTF-16\"?>".to_string()),
                "[a-zA-Z:\"= ]{0,12}",
            ],
            0..64,
        )
    ) {
        check_invariants(&load("noise.bpmn", parts.concat().as_bytes()))?;
    }

    #[test]
    fn mutated_shipped_definitions_never_panic(
        file in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let files = shipped();
        let mut bytes = files[file.index(files.len())].clone();
        for m in &mutations {
            apply(&mut bytes, m, files);
        }
        check_invariants(&load("mutated.bpmn", &bytes))?;
    }
}

#[test]
fn unmutated_shipped_definitions_load() {
    for bytes in shipped() {
        let loaded = load("shipped.bpmn", bytes);
        assert!(
            loaded.definition.is_some(),
            "{}",
            idflow_defs::render_text(&loaded.diagnostics)
        );
    }
}
