// Package progress draws a one-line progress bar (count, rate, ETA) for long
// commands. On a terminal the line is redrawn in place; elsewhere (a log
// file, CI) a plain line is printed every few seconds, so logs stay short.
package progress
