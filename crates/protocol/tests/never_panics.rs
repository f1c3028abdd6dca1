//! Any input gives a protocol or located diagnostics, never a panic.
#![cfg(feature = "full")]

use proptest::prelude::*;
use rollcoach_protocol::{BUILTIN_SOURCES, diagnostic, parse};

fn check(source: &str) {
    match parse(source) {
        Ok(p) => assert!(!p.id.is_empty()),
        Err(diags) => {
            assert!(!diags.is_empty(), "an error must say what is wrong");
            for d in &diags {
                assert!(d.span.start <= d.span.end, "{d:?}");
                assert!(d.span.end <= source.len(), "{d:?}");
                assert!(!d.message.is_empty());
            }
            let rendered = diagnostic::render("fuzz.toml", source, &diags);
            assert!(rendered.contains("fuzz.toml:"));
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, with: char },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        Just("=".to_string()),
        Just("[".to_string()),
        Just("]]".to_string()),
        Just("\"".to_string()),
        Just("\n[[setup]]\n".to_string()),
        Just("\nid = \"x\"\n".to_string()),
        Just("-1".to_string()),
        Just("1e400".to_string()),
        Just("{ kind = \"discomfort\" }".to_string()),
        "[a-z_ =\\[\\]\"{},.0-9\n]{0,12}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), snippet).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), any::<char>()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(source: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for m in mutations {
        let n = chars.len().max(1);
        match m {
            Mutation::Delete { at, len } => {
                let a = at % n;
                let b = (a + len).min(chars.len());
                chars.drain(a.min(chars.len())..b);
            }
            Mutation::Insert { at, text } => {
                let a = (at % n).min(chars.len());
                chars.splice(a..a, text.chars());
            }
            Mutation::Replace { at, with } => {
                if !chars.is_empty() {
                    chars[at % n] = *with;
                }
            }
            Mutation::Duplicate { at, len } => {
                let a = (at % n).min(chars.len());
                let b = (a + len).min(chars.len());
                let copy: Vec<char> = chars[a..b].to_vec();
                chars.splice(b..b, copy);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(source in any::<String>()) {
        check(&source);
    }

    #[test]
    fn toml_like_text_never_panics(source in "([a-z_]{1,8} = (\"[a-z ]{0,8}\"|[0-9.-]{1,4}|true|\\[\\]|\\{ ?\\}))?(\n|\\[[a-z.]{1,10}\\]\n|\\[\\[[a-z_.]{1,10}\\]\\]\n){0,3}") {
        check(&source);
    }

    #[test]
    fn mutated_builtins_never_panic(
        which in 0..BUILTIN_SOURCES.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        check(&apply(BUILTIN_SOURCES[which].1, &mutations));
    }
}
