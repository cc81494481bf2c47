// Package report turns evaluation results into a Markdown summary and one
// self-contained HTML page (no external scripts, styles or images: it works
// offline and can be mailed as one file).
package report
