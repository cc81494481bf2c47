package restoreapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one handler's Prometheus metrics, in a registry of its own
// (not the library's global one), so two handlers in one process, as in
// the tests, count apart.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // by route, method and code
	latency  *prometheus.HistogramVec // by route, method and code
	restore  prometheus.Histogram     // engine time alone
	faces    *prometheus.CounterVec   // by outcome
	rejected *prometheus.CounterVec   // by reason
}

func newMetrics(q *queue) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereward_http_requests_total",
			Help: "HTTP requests answered, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "facereward_http_request_duration_seconds",
			Help: "Time from a request's headers to its answer, by route, method and status code.",
			// From a refused request (milliseconds) to a photo of many faces.
			Buckets: []float64{0.005, 0.05, 0.25, 1, 2.5, 5, 10, 20, 40, 80, 160, 320},
		}, []string{"route", "method", "code"}),
		restore: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "facereward_restore_duration_seconds",
			Help:    "Time an engine spent on one photo (detection, restoration, paste-back).",
			Buckets: []float64{0.25, 1, 2.5, 5, 10, 20, 40, 80, 160, 320},
		}),
		faces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereward_faces_total",
			Help: "Faces in restored photos: restored (pasted) or kept (the gate kept the input face).",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facereward_restore_rejected_total",
			Help: "Restore requests refused before any work: queue_full (429) or shutting_down (503).",
		}, []string{"reason"}),
	}
	busy := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "facereward_restore_in_flight",
		Help: "Photos being restored now (at most the number of workers).",
	}, func() float64 { _, busy := q.stats(); return float64(busy) })
	waiting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "facereward_restore_queue_length",
		Help: "Admitted restore requests not being restored: sending their photo or waiting for a worker.",
	}, func() float64 { admitted, busy := q.stats(); return float64(admitted - busy) })
	workers := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "facereward_restore_workers",
		Help: "Photos this instance restores at once.",
	})
	workers.Set(float64(q.workers))
	m.reg.MustRegister(m.requests, m.latency, m.restore, m.faces, m.rejected, busy, waiting, workers,
		collectors.NewGoCollector(), // go_goroutines, go_memstats_*: the load test reads them
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, outcome := range []string{"restored", "kept"} {
		m.faces.WithLabelValues(outcome) // shown as 0 before the first photo
	}
	for _, reason := range []string{"queue_full", "shutting_down"} {
		m.rejected.WithLabelValues(reason)
	}
	return m
}

// instrument counts and times the requests h answers under route.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels),
		promhttp.InstrumentHandlerDuration(m.latency.MustCurryWith(labels), h))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
