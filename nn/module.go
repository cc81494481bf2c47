package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"

	"facereward/tensor"
)

// Module is anything that holds parameters: a layer or a network of layers.
type Module interface {
	Params() []*Param
}

// Collect concatenates the parameters of several modules and checks that
// their names are unique, since checkpoints are keyed by name.
func Collect(ms ...Module) []*Param {
	var ps []*Param
	seen := map[string]bool{}
	for _, m := range ms {
		for _, p := range m.Params() {
			if seen[p.Name] {
				panic(fmt.Sprintf("nn.Collect: two parameters named %q", p.Name))
			}
			seen[p.Name] = true
			ps = append(ps, p)
		}
	}
	return ps
}

// Freeze excludes all of m's parameters from training; gradients still flow
// through m to its inputs.
func Freeze(m Module) { setTrainable(m, false) }

// Unfreeze makes all of m's parameters trainable again.
func Unfreeze(m Module) { setTrainable(m, true) }

func setTrainable(m Module, on bool) {
	for _, p := range m.Params() {
		p.NeedGrad = on
		if !on {
			p.Grad = nil
		}
	}
}

// Clone returns a deep copy of a module: the same structure with every
// parameter's values copied into new tensors and gradients dropped. Shared
// sub-modules stay shared in the copy.
//
// Clone copies through exported fields only. It walks m by reflection:
//   - a *Param becomes a new Param with the same Name, NoDecay and
//     NeedGrad, a copy of its Value and no Grad;
//   - any other non-nil pointer gets a new allocation holding a clone of
//     its target; a pointer met twice (same address) maps to the same copy,
//     which keeps sharing and ends cycles;
//   - slices (each into a new backing array), arrays, maps (values cloned,
//     keys kept) and interface values are cloned element by element;
//   - a struct is copied whole, shallowly, and then each exported field is
//     replaced by its clone; unexported fields are never visited, so a
//     pointer, slice, map or interface in one is shared with the original;
//   - funcs and channels are shared; other values are copied.
//
// So a module that may be cloned keeps every parameter, and every
// pointer, slice, map or array leading to one, in exported fields;
// unexported fields hold plain values (configs, FLOP counts) or state
// meant to be shared. Clone enforces this: it panics, naming the field,
// when an unexported field's type can reach a *Param (a parameter there
// would be the same parameter in the copy, and training or freezing the
// copy would change the original). Interfaces in unexported fields are not
// checked, their dynamic types being unknown until run time.
func Clone[M any](m M) M {
	c := cloner{seen: map[uintptr]reflect.Value{}}
	return c.clone(reflect.ValueOf(&m).Elem()).Interface().(M)
}

// FrozenCopy is Clone followed by Freeze: a fixed reference copy of a module
// (ReFL regularises the trained control branch against one). Clone's rule
// applies: only parameters reached through exported fields are copied, and
// so frozen in the copy alone.
func FrozenCopy[M Module](m M) M {
	c := Clone(m)
	Freeze(c)
	return c
}

type cloner struct{ seen map[uintptr]reflect.Value }

// reachesParam reports whether a value of type t can hold a *Param through
// pointers, slices, arrays, maps or struct fields (of any visibility).
func reachesParam(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return t.Elem() == paramType || reachesParam(t.Elem(), seen)
	case reflect.Map:
		return reachesParam(t.Key(), seen) || reachesParam(t.Elem(), seen)
	case reflect.Struct:
		if t == paramType {
			return true
		}
		for i := 0; i < t.NumField(); i++ {
			if reachesParam(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

var paramType = reflect.TypeOf(Param{})

func (c *cloner) clone(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		if done, ok := c.seen[v.Pointer()]; ok {
			return done
		}
		if v.Elem().Type() == paramType {
			p := v.Interface().(*Param)
			cp := &Param{Var: &Var{Value: p.Value.Clone(), NeedGrad: p.NeedGrad}, Name: p.Name, NoDecay: p.NoDecay}
			out := reflect.ValueOf(cp)
			c.seen[v.Pointer()] = out
			return out
		}
		out := reflect.New(v.Elem().Type())
		c.seen[v.Pointer()] = out
		out.Elem().Set(c.clone(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v) // copies unexported and plain fields
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(c.clone(v.Field(i)))
			} else if f := v.Type().Field(i); reachesParam(f.Type, map[reflect.Type]bool{}) {
				panic(fmt.Sprintf("nn.Clone: unexported field %s.%s (%s) can hold a *nn.Param, which Clone would share with the original: export it", v.Type(), f.Name, f.Type))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(c.clone(v.Index(i)))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(c.clone(v.Index(i)))
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(c.clone(v.Elem()))
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			out.SetMapIndex(k, c.clone(v.MapIndex(k)))
		}
		return out
	}
	return v
}

// Uniform fills t with values from U(-bound, bound).
func Uniform(t *tensor.Tensor, bound float64, rng *rand.Rand) {
	for i := range t.Data {
		t.Data[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

// Normal fills t with values from N(0, std²).
func Normal(t *tensor.Tensor, std float64, rng *rand.Rand) {
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64() * std)
	}
}

// NewRNG returns the deterministic generator used for every random choice.
func NewRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// Conv2d is a convolution layer with weight [k,k,Cin,Cout] and bias [Cout].
type Conv2d struct {
	W, B        *Param
	Stride, Pad int
}

// NewConv2d makes a k×k convolution initialised as PyTorch does
// (U(±1/√fan_in) for weight and bias). Parameters are named name.weight and
// name.bias.
func NewConv2d(name string, cin, cout, k, stride, pad int, rng *rand.Rand) *Conv2d {
	bound := 1 / math.Sqrt(float64(cin*k*k))
	w, b := tensor.New(k, k, cin, cout), tensor.New(cout)
	Uniform(w, bound, rng)
	Uniform(b, bound, rng)
	return &Conv2d{W: NewParam(name+".weight", w, false), B: NewParam(name+".bias", b, true), Stride: stride, Pad: pad}
}

// Forward applies the convolution.
func (c *Conv2d) Forward(g *Graph, x *Var) *Var {
	return g.Conv2D(x, c.W.Var, c.B.Var, c.Stride, c.Pad)
}

// Params lists weight and bias.
func (c *Conv2d) Params() []*Param { return []*Param{c.W, c.B} }

// ZeroInit sets weight and bias to zero (ControlNet's zero convolutions).
func (c *Conv2d) ZeroInit() {
	clear(c.W.Value.Data)
	clear(c.B.Value.Data)
}

// Linear is a fully connected layer with weight [in, out] and bias [out].
type Linear struct{ W, B *Param }

// NewLinear makes a linear layer initialised as PyTorch does.
func NewLinear(name string, in, out int, rng *rand.Rand) *Linear {
	bound := 1 / math.Sqrt(float64(in))
	w, b := tensor.New(in, out), tensor.New(out)
	Uniform(w, bound, rng)
	Uniform(b, bound, rng)
	return &Linear{W: NewParam(name+".weight", w, false), B: NewParam(name+".bias", b, true)}
}

// Forward applies x·W + b over the last dimension.
func (l *Linear) Forward(g *Graph, x *Var) *Var { return g.Linear(x, l.W.Var, l.B.Var) }

// Params lists weight and bias.
func (l *Linear) Params() []*Param { return []*Param{l.W, l.B} }

// Norm is a GroupNorm (Groups ≥ 1) or LayerNorm (Groups == 0) layer with a
// per-channel gain (init 1) and bias (init 0), both exempt from weight decay.
type Norm struct {
	W, B   *Param
	Groups int
	Eps    float32
}

// NewGroupNorm makes a GroupNorm layer over c channels.
func NewGroupNorm(name string, groups, c int) *Norm {
	n := newNorm(name, c)
	n.Groups = groups
	return n
}

// NewLayerNorm makes a LayerNorm layer over the last dimension of size c.
func NewLayerNorm(name string, c int) *Norm { return newNorm(name, c) }

func newNorm(name string, c int) *Norm {
	w := tensor.New(c)
	for i := range w.Data {
		w.Data[i] = 1
	}
	return &Norm{W: NewParam(name+".weight", w, true), B: NewParam(name+".bias", tensor.New(c), true), Eps: 1e-5}
}

// Forward normalises x.
func (n *Norm) Forward(g *Graph, x *Var) *Var {
	if n.Groups == 0 {
		return g.LayerNorm(x, n.W.Var, n.B.Var, n.Eps)
	}
	return g.GroupNorm(x, n.W.Var, n.B.Var, n.Groups, n.Eps)
}

// Params lists gain and bias.
func (n *Norm) Params() []*Param { return []*Param{n.W, n.B} }

// NumParams is the number of scalars in ps.
func NumParams(ps []*Param) int {
	n := 0
	for _, p := range ps {
		n += tensor.Numel(p.Shape())
	}
	return n
}
