package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar reports progress towards a total. It is safe for concurrent use.
type Bar struct {
	mu          sync.Mutex
	w           io.Writer
	label       string
	total, done int
	extra       string
	start, last time.Time
	tty         bool
	shown       int // done at the last draw
	base        int // done before this process started (a resumed run)
	every       time.Duration
	now         func() time.Time
}

// New starts a bar writing to w (usually os.Stderr).
func New(w io.Writer, label string, total int) *Bar {
	b := &Bar{w: w, label: label, total: total, now: time.Now, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty, b.every = true, 150*time.Millisecond
		}
	}
	b.start = b.now()
	return b
}

// Add records n more items done and redraws if it is time.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if t := b.now(); t.Sub(b.last) >= b.every || b.done == b.total {
		b.last = t
		b.draw(false)
	}
}

// Resume marks n items as done before this bar started (a resumed run), so
// they count towards the total but not towards the rate.
func (b *Bar) Resume(n int) {
	b.mu.Lock()
	b.done += n
	b.base += n
	b.mu.Unlock()
}

// SetExtra sets a short status (for example the current loss) shown after
// the counts.
func (b *Bar) SetExtra(s string) {
	b.mu.Lock()
	b.extra = s
	b.mu.Unlock()
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty || b.shown != b.done || b.done == 0 {
		b.draw(true)
	}
}

func (b *Bar) draw(final bool) {
	b.shown = b.done
	el := b.now().Sub(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(b.done-b.base) / el
	}
	var sb strings.Builder
	sb.WriteString(b.label)
	if b.total > 0 {
		frac := min(float64(b.done)/float64(b.total), 1)
		const width = 24
		fill := int(frac * width)
		fmt.Fprintf(&sb, " [%s%s] %d/%d", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), b.done, b.total)
		if rate > 0 && b.done < b.total {
			fmt.Fprintf(&sb, " ETA %s", (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second))
		}
	} else {
		fmt.Fprintf(&sb, " %d", b.done)
	}
	fmt.Fprintf(&sb, " %.1f/s", rate)
	if b.extra != "" {
		sb.WriteString(" " + b.extra)
	}
	switch {
	case b.tty && final:
		fmt.Fprintf(b.w, "\r\033[K%s\n", sb.String())
	case b.tty:
		fmt.Fprintf(b.w, "\r\033[K%s", sb.String())
	default:
		fmt.Fprintln(b.w, sb.String())
	}
}
