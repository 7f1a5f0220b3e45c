//! Tabular output of `list` and `find` (OVS's `lib/table.c`): formats `list` (default), `table`, `csv`,
//! `json` and `html`, cell data as `string` (parseable), `bare` or `json`, optional headings.

use ovsdb::datum::Datum;
use ovsdb::types::Type;

use crate::value::{datum_to_bare, datum_to_string, json_sorted, json_string};

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `column : value` lines per record.
    List,
    /// Aligned columns.
    Table,
    /// Comma-separated values.
    Csv,
    /// One JSON object.
    Json,
    /// An HTML table.
    Html,
}

/// Cell data format (`--data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellFormat {
    /// Parseable string syntax.
    String,
    /// Bare values for scripts.
    Bare,
    /// OVSDB wire JSON.
    Json,
}

/// How tables are printed.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// `--format`.
    pub format: Format,
    /// `--data`.
    pub cell: CellFormat,
    /// Print headings (`--no-headings` clears).
    pub headings: bool,
    /// `--pretty` JSON.
    pub pretty: bool,
    /// `--max-column-width` (0: unlimited).
    pub max_width: usize,
}

impl Default for Style {
    fn default() -> Self {
        Style { format: Format::List, cell: CellFormat::String, headings: true, pretty: false, max_width: 0 }
    }
}

/// A table of results.
#[derive(Debug, Default)]
pub struct Table {
    /// Column headings.
    pub headings: Vec<String>,
    /// Rows of cells (value and type).
    pub rows: Vec<Vec<(Datum, Type)>>,
}

fn cell_text(d: &Datum, ty: &Type, style: &Style) -> String {
    match style.cell {
        CellFormat::String => datum_to_string(d, ty),
        CellFormat::Bare => datum_to_bare(d),
        CellFormat::Json => json_sorted(&d.to_json()),
    }
}

fn finish_line(s: &mut String) {
    while s.ends_with(' ') {
        s.pop();
    }
    s.push('\n');
}

fn csv_cell(c: &str, s: &mut String) {
    if c.contains(['\n', '"', ',']) {
        s.push('"');
        s.push_str(&c.replace('"', "\"\""));
        s.push('"');
    } else {
        s.push_str(c);
    }
}

fn html_escape(c: &str) -> String {
    c.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Table {
    /// Formats the table; `first` is false for every table after the first of one invocation (a blank line
    /// separates them).
    pub fn format(&self, style: &Style, first: bool) -> String {
        let mut s = String::new();
        if !first && style.format != Format::Json && style.format != Format::Html {
            s.push('\n');
        }
        let text: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(|(d, t)| cell_text(d, t, style)).collect()).collect();
        match style.format {
            Format::List => {
                for (y, row) in text.iter().enumerate() {
                    if y > 0 {
                        s.push('\n');
                    }
                    for (x, cell) in row.iter().enumerate() {
                        if style.headings {
                            s.push_str(&format!("{:<20}: ", self.headings[x]));
                        }
                        s.push_str(cell);
                        s.push('\n');
                    }
                }
            }
            Format::Table => {
                let mut widths: Vec<usize> = Vec::new();
                for (x, h) in self.headings.iter().enumerate() {
                    let mut w = text.iter().map(|r| r[x].chars().count()).max().unwrap_or(0);
                    if style.max_width > 0 && w > style.max_width {
                        w = style.max_width;
                    }
                    if style.headings {
                        w = w.max(h.chars().count());
                    }
                    widths.push(w);
                }
                if style.headings {
                    for (x, h) in self.headings.iter().enumerate() {
                        if x > 0 {
                            s.push(' ');
                        }
                        s.push_str(&format!("{h:<w$}", w = widths[x]));
                    }
                    finish_line(&mut s);
                    for (x, w) in widths.iter().enumerate() {
                        if x > 0 {
                            s.push(' ');
                        }
                        s.push_str(&"-".repeat(*w));
                    }
                    finish_line(&mut s);
                }
                for row in &text {
                    for (x, cell) in row.iter().enumerate() {
                        if x > 0 {
                            s.push(' ');
                        }
                        let truncated: String = cell.chars().take(widths[x]).collect();
                        s.push_str(&format!("{truncated:<w$}", w = widths[x]));
                    }
                    finish_line(&mut s);
                }
            }
            Format::Csv => {
                if style.headings {
                    for (x, h) in self.headings.iter().enumerate() {
                        if x > 0 {
                            s.push(',');
                        }
                        csv_cell(h, &mut s);
                    }
                    s.push('\n');
                }
                for row in &text {
                    for (x, cell) in row.iter().enumerate() {
                        if x > 0 {
                            s.push(',');
                        }
                        csv_cell(cell, &mut s);
                    }
                    s.push('\n');
                }
            }
            Format::Json => {
                let headings: Vec<String> = self.headings.iter().map(|h| json_string(h)).collect();
                let data: Vec<String> = self
                    .rows
                    .iter()
                    .map(|r| format!("[{}]", r.iter().map(|(d, _)| json_sorted(&d.to_json())).collect::<Vec<_>>().join(",")))
                    .collect();
                let body = format!("{{\"data\":[{}],\"headings\":[{}]}}", data.join(","), headings.join(","));
                if style.pretty {
                    match serde_json::from_str::<serde_json::Value>(&body) {
                        Ok(v) => s.push_str(&serde_json::to_string_pretty(&v).unwrap_or(body)),
                        Err(_) => s.push_str(&body),
                    }
                } else {
                    s.push_str(&body);
                }
                s.push('\n');
            }
            Format::Html => {
                s.push_str("<table>\n");
                if style.headings {
                    s.push_str("  <tr>\n");
                    for h in &self.headings {
                        s.push_str(&format!("    <th>{}</th>\n", html_escape(h)));
                    }
                    s.push_str("  </tr>\n");
                }
                for row in &text {
                    s.push_str("  <tr>\n");
                    for cell in row {
                        s.push_str(&format!("    <td>{}</td>\n", html_escape(cell)));
                    }
                    s.push_str("  </tr>\n");
                }
                s.push_str("</table>\n");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovsdb::atom::{Atom, AtomicType};
    use ovsdb::types::BaseType;

    fn table() -> Table {
        let sty = Type { key: BaseType::plain(AtomicType::String), value: None, min: 1, max: 1 };
        let ity = Type { key: BaseType::plain(AtomicType::Integer), value: None, min: 0, max: 4096 };
        Table {
            headings: vec!["name".into(), "trunks".into()],
            rows: vec![
                vec![(Datum::scalar(Atom::String("p1".into())), sty.clone()), (Datum::Set([Atom::Integer(1), Atom::Integer(2)].into()), ity.clone())],
                vec![(Datum::scalar(Atom::String("a,b".into())), sty), (Datum::empty(&ity), ity)],
            ],
        }
    }

    #[test]
    fn list_table_csv_and_bare_forms() {
        let t = table();
        assert_eq!(
            t.format(&Style::default(), true),
            "name                : p1\ntrunks              : [1, 2]\n\nname                : \"a,b\"\ntrunks              : []\n"
        );
        let st = Style { format: Format::Table, ..Style::default() };
        assert_eq!(t.format(&st, true), "name  trunks\n----- ------\np1    [1, 2]\n\"a,b\" []\n");
        let st = Style { format: Format::Csv, cell: CellFormat::Bare, ..Style::default() };
        assert_eq!(t.format(&st, true), "name,trunks\np1,1 2\n\"a,b\",\n");
        let st = Style { cell: CellFormat::Bare, headings: false, ..Style::default() };
        assert_eq!(t.format(&st, false), "\np1\n1 2\n\na,b\n\n");
    }
}
