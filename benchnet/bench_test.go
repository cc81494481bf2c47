package benchnet

import "testing"

func benchNet(b *testing.B, n Net, train bool) {
	trainF, fwdF := n.FLOPs()
	step, flops := n.Forward, fwdF
	if train {
		step, flops = n.TrainStep, trainF
	}
	step() // first call fills the buffer pools
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkNetA(b *testing.B) {
	n := NewA(1)
	b.Run("train", func(b *testing.B) { benchNet(b, n, true) })
	b.Run("forward", func(b *testing.B) { benchNet(b, n, false) })
}

func BenchmarkNetB(b *testing.B) {
	n := NewB(1)
	b.Run("train", func(b *testing.B) { benchNet(b, n, true) })
	b.Run("forward", func(b *testing.B) { benchNet(b, n, false) })
}
