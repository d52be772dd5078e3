//! Figures of one scenario: printed as a table, written as JSON.
//!
//! Collects and formats; it measures nothing itself.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

/// One figure, with the target it is checked against when the issue sets one.
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// `(comparison text, met)`, e.g. `("≤ 2 ms", true)`.
    pub target: Option<(String, bool)>,
}

/// The figures of a scenario.
pub struct Report {
    pub scenario: &'static str,
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &'static str) -> Report {
        Report {
            scenario,
            figures: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A figure without a target.
    pub fn add(&mut self, name: &str, value: f64, unit: &'static str) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
            unit,
            target: None,
        });
    }

    /// A figure that must be at most `limit`.
    pub fn at_most(&mut self, name: &str, value: f64, unit: &'static str, limit: f64) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
            unit,
            target: Some((format!("≤ {limit} {unit}"), value <= limit)),
        });
    }

    /// A figure that must be at least `limit`.
    pub fn at_least(&mut self, name: &str, value: f64, unit: &'static str, limit: f64) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
            unit,
            target: Some((format!("≥ {limit:.1} {unit}"), value >= limit)),
        });
    }

    /// p50, p99 and max of sorted values, each checked against its limit when one is given.
    pub fn spread(
        &mut self,
        name: &str,
        sorted: &[f64],
        unit: &'static str,
        limits: [Option<f64>; 3],
    ) {
        for ((label, p), limit) in [("p50", 50.0), ("p99", 99.0), ("max", 100.0)]
            .into_iter()
            .zip(limits)
        {
            let name = format!("{name} {label}");
            let value = percentile(sorted, p);
            match limit {
                Some(limit) => self.at_most(&name, value, unit, limit),
                None => self.add(&name, value, unit),
            }
        }
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Prints the table to stdout.
    pub fn print(&self, machine: &str) {
        println!("scenario {} on {machine}", self.scenario);
        for figure in &self.figures {
            let target = figure.target.as_ref().map_or(String::new(), |(text, met)| {
                format!("  target {text}: {}", if *met { "met" } else { "MISSED" })
            });
            println!(
                "  {:<44} {:>12.3} {:<6}{target}",
                figure.name, figure.value, figure.unit
            );
        }
        for note in &self.notes {
            println!("  note: {note}");
        }
    }

    /// Writes the figures as JSON.
    pub fn write_json(&self, machine: &str, path: &Path) -> Result<()> {
        let figures: Vec<_> = self
            .figures
            .iter()
            .map(|figure| {
                json!({
                    "name": figure.name,
                    "value": figure.value,
                    "unit": figure.unit,
                    "target": figure.target.as_ref().map(|(text, _)| text),
                    "met": figure.target.as_ref().map(|(_, met)| met),
                })
            })
            .collect();
        let document = json!({
            "scenario": self.scenario,
            "machine": machine,
            "figures": figures,
            "notes": self.notes,
        });
        std::fs::write(path, serde_json::to_string_pretty(&document)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Percentile `p` (0..=100) of sorted values, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts durations into milliseconds.
pub fn sorted_ms(durations: &[Duration]) -> Vec<f64> {
    let mut ms: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    ms
}
