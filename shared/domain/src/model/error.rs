//! Model file errors that name the file, the line and the reason.

use std::fmt;
use std::ops::Range;

/// One problem in a model file, located by line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every problem found in one model file. Displays as `file:line:column: message` lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ModelErrors {
    pub origin: String,
    pub errors: Vec<ModelError>,
}

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}", self.origin, e.line, e.column, e.message)?;
        }
        Ok(())
    }
}

/// Turns byte spans into lines and columns for one source text.
pub(crate) struct Locator<'a> {
    src: &'a str,
}

impl<'a> Locator<'a> {
    pub fn new(src: &'a str) -> Self {
        Locator { src }
    }

    pub fn locate(&self, span: &Range<usize>, message: String) -> ModelError {
        let at = span.start.min(self.src.len());
        let before = &self.src.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = self.src[line_start..at].chars().count() + 1;
        ModelError {
            line,
            column,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_columns() {
        let src = "a = 1\nbb = 2\n  ccc = 3\n";
        let loc = Locator::new(src);
        let e = loc.locate(&(15..18), "x".into());
        assert_eq!((e.line, e.column), (3, 3));
        let e = loc.locate(&(0..1), "x".into());
        assert_eq!((e.line, e.column), (1, 1));
    }

    #[test]
    fn displays_file_line_column() {
        let errs = ModelErrors {
            origin: "m.toml".into(),
            errors: vec![
                ModelError {
                    line: 3,
                    column: 1,
                    message: "bad".into(),
                },
                ModelError {
                    line: 9,
                    column: 5,
                    message: "worse".into(),
                },
            ],
        };
        assert_eq!(errs.to_string(), "m.toml:3:1: bad\nm.toml:9:5: worse");
    }
}
