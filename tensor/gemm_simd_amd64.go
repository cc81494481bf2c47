//go:build goexperiment.simd && amd64

package tensor

import (
	"simd/archsimd"
	"unsafe"
)

// The archsimd micro-kernels. Their shape was settled by measurement on a
// Zen 5 core (in-L1 throughput, GFLOP/s, FMA peak about 235):
//
//   - The compiler allocates only 15 vector registers, so 8 accumulators is
//     the limit; 9 or 10 already spill, and a spilled loop runs 3× slower.
//     Hence 2×64 (4 loads + 2 broadcasts per 8 FMAs, 225 in L1) rather than
//     the usual 6×32 or 14×32 tiles, and 4×32 (223) for products at most 32
//     wide, such as convolutions with 32 output channels. AVX2 uses the
//     same shapes at half width: 2×32 (115) and 4×16 (112); 3×24 ran at 123
//     but would pad 64 columns to 72.
//   - MulAdd is VFMADD213PS, whose result overwrites the receiver. Using the
//     B vector as receiver at its last use (and the broadcast at the end of
//     row 0) keeps the copies to register moves.
//   - k is unrolled ×4 with an exit test after every step. Without those
//     branches the scheduler hoists all 16 loads of the unrolled body to its
//     top and spills (75 GFLOP/s); with them each step is its own block and
//     the loop runs at 225–230, against 195 for a plain one-step loop.
//   - alpha and beta come through a pointer: as float arguments they stay
//     live in vector registers across the loop and cost 15%.
//   - Pointer arithmetic with unsafe.Add has no bounds checks; the driver
//     guarantees every address is inside a checked slice. Pointers advance
//     only when another step follows, so none ever points past its
//     allocation where the GC could see it at a preemption point.

var (
	avx512Narrow = &gemmKernel{name: "avx512", mr: 4, nr: 32, kc: 192, kcT: 128, mc: 512, nc: 1024, aRep: 1, direct: true, tile: tileAVX512x4x32}
	avx512Kernel = &gemmKernel{name: "avx512", mr: 2, nr: 64, kc: 192, kcT: 128, mc: 512, nc: 1024, aRep: 1, direct: true, tile: tileAVX512x2x64, narrow: avx512Narrow}
	avx2Narrow   = &gemmKernel{name: "avx2", mr: 4, nr: 16, kc: 256, kcT: 192, mc: 512, nc: 1024, aRep: 1, direct: true, tile: tileAVX2x4x16}
	avx2Kernel   = &gemmKernel{name: "avx2", mr: 2, nr: 32, kc: 256, kcT: 192, mc: 512, nc: 1024, aRep: 1, direct: true, tile: tileAVX2x2x32, narrow: avx2Narrow}
)

// simdKernels lists the vector kernels this CPU supports, fastest first.
// archsimd.X86 reads internal/cpu, whose flags already reflect GODEBUG
// (cpu.avx512f=off, cpu.avx2=off, cpu.fma=off) when packages initialise.
// Under GOAMD64=v4 (v3) the runtime refuses to switch off AVX-512 (AVX2),
// since the whole binary may use it; FACEREWARD_GEMM still selects a kernel.
func simdKernels() []*gemmKernel {
	var ks []*gemmKernel
	if archsimd.X86.AVX512() {
		ks = append(ks, avx512Kernel)
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		ks = append(ks, avx2Kernel)
	}
	return ks
}

func tileAVX512x2x64(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 archsimd.Float32x16
	a0 := a
	a1 := unsafe.Add(a, rsA*4)
	da := uintptr(csA * 4)
	for n := kc; ; {
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 0)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 64)))
			b2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 128)))
			b3 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 192)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(a0))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(a1))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n == 1 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 256)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 320)))
			b2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 384)))
			b3 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 448)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a0, da)))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a1, da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n == 2 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 512)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 576)))
			b2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 640)))
			b3 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 704)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a0, 2*da)))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a1, 2*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n == 3 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 768)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 832)))
			b2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 896)))
			b3 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 960)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a0, 3*da)))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a1, 3*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n -= 4; n <= 0 {
			break
		}
		a0, a1 = unsafe.Add(a0, 4*da), unsafe.Add(a1, 4*da)
		b = unsafe.Add(b, 1024)
	}
	if alpha := ab[0]; alpha != 1 {
		al := archsimd.BroadcastFloat32x16(alpha)
		c00, c01, c02, c03 = c00.Mul(al), c01.Mul(al), c02.Mul(al), c03.Mul(al)
		c10, c11, c12, c13 = c10.Mul(al), c11.Mul(al), c12.Mul(al), c13.Mul(al)
	}
	c0 := c
	c1 := unsafe.Add(c0, ldc*4)
	switch beta := ab[1]; beta {
	case 0: // C may hold garbage: do not read it
	case 1: // accumulating into C, as every k block after the first does
		c00 = c00.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 0))))
		c01 = c01.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 64))))
		c02 = c02.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 128))))
		c03 = c03.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 192))))
		c10 = c10.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 0))))
		c11 = c11.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 64))))
		c12 = c12.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 128))))
		c13 = c13.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 192))))
	default:
		be := archsimd.BroadcastFloat32x16(beta)
		c00 = c00.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 0)))))
		c01 = c01.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 64)))))
		c02 = c02.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 128)))))
		c03 = c03.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 192)))))
		c10 = c10.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 0)))))
		c11 = c11.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 64)))))
		c12 = c12.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 128)))))
		c13 = c13.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 192)))))
	}
	c00.Store((*[16]float32)(unsafe.Add(c0, 0)))
	c01.Store((*[16]float32)(unsafe.Add(c0, 64)))
	c02.Store((*[16]float32)(unsafe.Add(c0, 128)))
	c03.Store((*[16]float32)(unsafe.Add(c0, 192)))
	c10.Store((*[16]float32)(unsafe.Add(c1, 0)))
	c11.Store((*[16]float32)(unsafe.Add(c1, 64)))
	c12.Store((*[16]float32)(unsafe.Add(c1, 128)))
	c13.Store((*[16]float32)(unsafe.Add(c1, 192)))
}

func tileAVX512x4x32(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	a0 := a
	a1 := unsafe.Add(a, rsA*4)
	a2 := unsafe.Add(a, 2*rsA*4)
	a3 := unsafe.Add(a, 3*rsA*4)
	da := uintptr(csA * 4)
	for n := kc; ; {
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 0)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 64)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(a0))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(a1))
			x2 := archsimd.BroadcastFloat32x16(*(*float32)(a2))
			x3 := archsimd.BroadcastFloat32x16(*(*float32)(a3))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n == 1 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 128)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 192)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a0, da)))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a1, da)))
			x2 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a2, da)))
			x3 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a3, da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n == 2 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 256)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 320)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a0, 2*da)))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a1, 2*da)))
			x2 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a2, 2*da)))
			x3 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a3, 2*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n == 3 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 384)))
			b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 448)))
			x0 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a0, 3*da)))
			x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a1, 3*da)))
			x2 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a2, 3*da)))
			x3 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a3, 3*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n -= 4; n <= 0 {
			break
		}
		a0, a1, a2, a3 = unsafe.Add(a0, 4*da), unsafe.Add(a1, 4*da), unsafe.Add(a2, 4*da), unsafe.Add(a3, 4*da)
		b = unsafe.Add(b, 512)
	}
	if alpha := ab[0]; alpha != 1 {
		al := archsimd.BroadcastFloat32x16(alpha)
		c00, c01 = c00.Mul(al), c01.Mul(al)
		c10, c11 = c10.Mul(al), c11.Mul(al)
		c20, c21 = c20.Mul(al), c21.Mul(al)
		c30, c31 = c30.Mul(al), c31.Mul(al)
	}
	c0 := c
	c1 := unsafe.Add(c0, ldc*4)
	c2 := unsafe.Add(c1, ldc*4)
	c3 := unsafe.Add(c2, ldc*4)
	switch beta := ab[1]; beta {
	case 0: // C may hold garbage: do not read it
	case 1: // accumulating into C, as every k block after the first does
		c00 = c00.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 0))))
		c01 = c01.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 64))))
		c10 = c10.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 0))))
		c11 = c11.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 64))))
		c20 = c20.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c2, 0))))
		c21 = c21.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c2, 64))))
		c30 = c30.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c3, 0))))
		c31 = c31.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c3, 64))))
	default:
		be := archsimd.BroadcastFloat32x16(beta)
		c00 = c00.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 0)))))
		c01 = c01.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c0, 64)))))
		c10 = c10.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 0)))))
		c11 = c11.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c1, 64)))))
		c20 = c20.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c2, 0)))))
		c21 = c21.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c2, 64)))))
		c30 = c30.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c3, 0)))))
		c31 = c31.Add(be.Mul(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(c3, 64)))))
	}
	c00.Store((*[16]float32)(unsafe.Add(c0, 0)))
	c01.Store((*[16]float32)(unsafe.Add(c0, 64)))
	c10.Store((*[16]float32)(unsafe.Add(c1, 0)))
	c11.Store((*[16]float32)(unsafe.Add(c1, 64)))
	c20.Store((*[16]float32)(unsafe.Add(c2, 0)))
	c21.Store((*[16]float32)(unsafe.Add(c2, 64)))
	c30.Store((*[16]float32)(unsafe.Add(c3, 0)))
	c31.Store((*[16]float32)(unsafe.Add(c3, 64)))
}

func tileAVX2x2x32(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 archsimd.Float32x8
	a0 := a
	a1 := unsafe.Add(a, rsA*4)
	da := uintptr(csA * 4)
	for n := kc; ; {
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 0)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 32)))
			b2 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 64)))
			b3 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 96)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(a0))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(a1))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n == 1 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 128)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 160)))
			b2 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 192)))
			b3 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 224)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a0, da)))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a1, da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n == 2 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 256)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 288)))
			b2 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 320)))
			b3 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 352)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a0, 2*da)))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a1, 2*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n == 3 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 384)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 416)))
			b2 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 448)))
			b3 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 480)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a0, 3*da)))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a1, 3*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = b1.MulAdd(x0, c01)
			c02 = b2.MulAdd(x0, c02)
			c03 = x0.MulAdd(b3, c03)
			c10 = b0.MulAdd(x1, c10)
			c11 = b1.MulAdd(x1, c11)
			c12 = b2.MulAdd(x1, c12)
			c13 = b3.MulAdd(x1, c13)
		}
		if n -= 4; n <= 0 {
			break
		}
		a0, a1 = unsafe.Add(a0, 4*da), unsafe.Add(a1, 4*da)
		b = unsafe.Add(b, 512)
	}
	if alpha := ab[0]; alpha != 1 {
		al := archsimd.BroadcastFloat32x8(alpha)
		c00, c01, c02, c03 = c00.Mul(al), c01.Mul(al), c02.Mul(al), c03.Mul(al)
		c10, c11, c12, c13 = c10.Mul(al), c11.Mul(al), c12.Mul(al), c13.Mul(al)
	}
	c0 := c
	c1 := unsafe.Add(c0, ldc*4)
	switch beta := ab[1]; beta {
	case 0: // C may hold garbage: do not read it
	case 1: // accumulating into C, as every k block after the first does
		c00 = c00.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 0))))
		c01 = c01.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 32))))
		c02 = c02.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 64))))
		c03 = c03.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 96))))
		c10 = c10.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 0))))
		c11 = c11.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 32))))
		c12 = c12.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 64))))
		c13 = c13.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 96))))
	default:
		be := archsimd.BroadcastFloat32x8(beta)
		c00 = c00.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 0)))))
		c01 = c01.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 32)))))
		c02 = c02.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 64)))))
		c03 = c03.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 96)))))
		c10 = c10.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 0)))))
		c11 = c11.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 32)))))
		c12 = c12.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 64)))))
		c13 = c13.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 96)))))
	}
	c00.Store((*[8]float32)(unsafe.Add(c0, 0)))
	c01.Store((*[8]float32)(unsafe.Add(c0, 32)))
	c02.Store((*[8]float32)(unsafe.Add(c0, 64)))
	c03.Store((*[8]float32)(unsafe.Add(c0, 96)))
	c10.Store((*[8]float32)(unsafe.Add(c1, 0)))
	c11.Store((*[8]float32)(unsafe.Add(c1, 32)))
	c12.Store((*[8]float32)(unsafe.Add(c1, 64)))
	c13.Store((*[8]float32)(unsafe.Add(c1, 96)))
}

func tileAVX2x4x16(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	a0 := a
	a1 := unsafe.Add(a, rsA*4)
	a2 := unsafe.Add(a, 2*rsA*4)
	a3 := unsafe.Add(a, 3*rsA*4)
	da := uintptr(csA * 4)
	for n := kc; ; {
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 0)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 32)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(a0))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(a1))
			x2 := archsimd.BroadcastFloat32x8(*(*float32)(a2))
			x3 := archsimd.BroadcastFloat32x8(*(*float32)(a3))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n == 1 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 64)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 96)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a0, da)))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a1, da)))
			x2 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a2, da)))
			x3 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a3, da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n == 2 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 128)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 160)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a0, 2*da)))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a1, 2*da)))
			x2 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a2, 2*da)))
			x3 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a3, 2*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n == 3 {
			break
		}
		{
			b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 192)))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 224)))
			x0 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a0, 3*da)))
			x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a1, 3*da)))
			x2 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a2, 3*da)))
			x3 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a3, 3*da)))
			c00 = b0.MulAdd(x0, c00)
			c01 = x0.MulAdd(b1, c01)
			c10 = b0.MulAdd(x1, c10)
			c11 = x1.MulAdd(b1, c11)
			c20 = b0.MulAdd(x2, c20)
			c21 = x2.MulAdd(b1, c21)
			c30 = b0.MulAdd(x3, c30)
			c31 = b1.MulAdd(x3, c31)
		}
		if n -= 4; n <= 0 {
			break
		}
		a0, a1, a2, a3 = unsafe.Add(a0, 4*da), unsafe.Add(a1, 4*da), unsafe.Add(a2, 4*da), unsafe.Add(a3, 4*da)
		b = unsafe.Add(b, 256)
	}
	if alpha := ab[0]; alpha != 1 {
		al := archsimd.BroadcastFloat32x8(alpha)
		c00, c01 = c00.Mul(al), c01.Mul(al)
		c10, c11 = c10.Mul(al), c11.Mul(al)
		c20, c21 = c20.Mul(al), c21.Mul(al)
		c30, c31 = c30.Mul(al), c31.Mul(al)
	}
	c0 := c
	c1 := unsafe.Add(c0, ldc*4)
	c2 := unsafe.Add(c1, ldc*4)
	c3 := unsafe.Add(c2, ldc*4)
	switch beta := ab[1]; beta {
	case 0: // C may hold garbage: do not read it
	case 1: // accumulating into C, as every k block after the first does
		c00 = c00.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 0))))
		c01 = c01.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 32))))
		c10 = c10.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 0))))
		c11 = c11.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 32))))
		c20 = c20.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c2, 0))))
		c21 = c21.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c2, 32))))
		c30 = c30.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c3, 0))))
		c31 = c31.Add(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c3, 32))))
	default:
		be := archsimd.BroadcastFloat32x8(beta)
		c00 = c00.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 0)))))
		c01 = c01.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c0, 32)))))
		c10 = c10.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 0)))))
		c11 = c11.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c1, 32)))))
		c20 = c20.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c2, 0)))))
		c21 = c21.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c2, 32)))))
		c30 = c30.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c3, 0)))))
		c31 = c31.Add(be.Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(c3, 32)))))
	}
	c00.Store((*[8]float32)(unsafe.Add(c0, 0)))
	c01.Store((*[8]float32)(unsafe.Add(c0, 32)))
	c10.Store((*[8]float32)(unsafe.Add(c1, 0)))
	c11.Store((*[8]float32)(unsafe.Add(c1, 32)))
	c20.Store((*[8]float32)(unsafe.Add(c2, 0)))
	c21.Store((*[8]float32)(unsafe.Add(c2, 32)))
	c30.Store((*[8]float32)(unsafe.Add(c3, 0)))
	c31.Store((*[8]float32)(unsafe.Add(c3, 32)))
}
