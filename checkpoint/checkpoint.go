package checkpoint

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"facereward/nn"
	"facereward/optim"
	"facereward/safetensors"
	"facereward/tensor"
)

// Metadata keys written by this package. User metadata may not use the
// "checkpoint." prefix.
const (
	// KeyParts lists the state parts in the file, comma-separated, so Load
	// can tell "optim/…" state it was not asked for from stray tensors.
	KeyParts = "checkpoint.parts"
	// KeyStep is the optimiser's StepCount, for people and scripts; the
	// exact count is restored from the optimiser state itself.
	KeyStep = "checkpoint.step"

	reservedPrefix = "checkpoint."
	// OptimPart is the part name Save and Load use for the optimiser.
	OptimPart = "optim"
)

// Save writes params (as dtype) and, if opt is not nil, its state (as F32)
// to path atomically, with meta and the optimiser's step count in the
// metadata. Only an F32 save resumes bit-for-bit; F16 rounds the weights.
func Save(path string, params []*nn.Param, opt optim.Optimizer, meta map[string]string, dtype safetensors.DType) error {
	parts := map[string]optim.Stateful{}
	if opt != nil {
		parts[OptimPart] = opt
	}
	return SaveParts(path, params, parts, meta, dtype)
}

// SaveParts is Save with any number of named state parts, for example
// {"optim": opt, "ema": ema}. Part names must be non-empty and contain no
// "/" or ","; the step count is recorded when the "optim" part is an
// Optimizer.
func SaveParts(path string, params []*nn.Param, parts map[string]optim.Stateful, meta map[string]string, dtype safetensors.DType) error {
	if err := checkMeta(path, meta); err != nil {
		return err
	}
	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	if opt, ok := parts[OptimPart].(optim.Optimizer); ok {
		m[KeyStep] = strconv.Itoa(opt.StepCount())
	}
	return save(path, params, parts, m, dtype)
}

func checkMeta(path string, meta map[string]string) error {
	for k := range meta {
		if strings.HasPrefix(k, reservedPrefix) {
			return fmt.Errorf("checkpoint %s: metadata key %q uses the reserved prefix %q", path, k, reservedPrefix)
		}
	}
	return nil
}

func save(path string, params []*nn.Param, parts map[string]optim.Stateful, meta map[string]string, dtype safetensors.DType) error {
	names, err := partNames(parts)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := checkParamNames(params, names); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	tensors := make(map[string]*tensor.Tensor)
	isParam := make(map[string]bool, len(params))
	for _, p := range params {
		tensors[p.Name] = p.Value
		isParam[p.Name] = true
	}
	for _, part := range names {
		for key, t := range parts[part].State() {
			tensors[part+"/"+key] = t
		}
	}
	if len(names) > 0 {
		meta[KeyParts] = strings.Join(names, ",")
	}
	// Optimiser moments stay F32 even in a half-precision checkpoint:
	// exp_avg_sq is often below F16's range, and resuming must be exact.
	dtypeOf := func(name string) safetensors.DType {
		if isParam[name] {
			return dtype
		}
		return safetensors.F32
	}
	if err := safetensors.WriteWith(path, tensors, meta, dtypeOf); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// partNames validates part names and returns them sorted.
func partNames(parts map[string]optim.Stateful) ([]string, error) {
	names := make([]string, 0, len(parts))
	for name, s := range parts {
		if name == "" || strings.ContainsAny(name, "/,") {
			return nil, fmt.Errorf("bad state part name %q (non-empty, no '/' or ',')", name)
		}
		if s == nil {
			return nil, fmt.Errorf("state part %q is nil", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// checkParamNames rejects duplicate names and names that would be mistaken
// for a state part's tensors.
func checkParamNames(params []*nn.Param, parts []string) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if seen[p.Name] {
			return fmt.Errorf("parameter name %q appears twice", p.Name)
		}
		seen[p.Name] = true
		for _, part := range parts {
			if strings.HasPrefix(p.Name, part+"/") {
				return fmt.Errorf("parameter name %q clashes with state part %q", p.Name, part)
			}
		}
	}
	return nil
}

// Options adjusts how strict loading is.
type Options struct {
	// AllowUnexpected accepts tensors that are neither parameters of the
	// model nor state (for example a pretrained file with an extra head).
	AllowUnexpected bool
}

// Load restores params, and opt's state if opt is not nil, from a file
// written by Save, and returns the file's metadata. Every parameter must be
// in the file with its shape; anything else in the file apart from state
// parts is an error. Frozen parameters are loaded like the others.
func Load(path string, params []*nn.Param, opt optim.Optimizer) (map[string]string, error) {
	parts := map[string]optim.Stateful{}
	if opt != nil {
		parts[OptimPart] = opt
	}
	return LoadParts(path, params, parts, Options{})
}

// LoadParts is Load with named state parts and options. State parts in the
// file that are not asked for are skipped (loading a training checkpoint
// for evaluation), but a part asked for must be in the file.
//
// Nothing is changed unless every check passes, except that if a later
// part's SetState fails, earlier parts have already been restored; the
// parameters are only written once all parts have succeeded.
func LoadParts(path string, params []*nn.Param, parts map[string]optim.Stateful, opts Options) (map[string]string, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return LoadFile(f, path, params, parts, opts)
}

// LoadFile is LoadParts on a file already read (for example from an
// embedded file system); path names it in errors.
func LoadFile(f *safetensors.File, path string, params []*nn.Param, parts map[string]optim.Stateful, opts Options) (map[string]string, error) {
	fail := func(err error) (map[string]string, error) {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	names, err := partNames(parts)
	if err != nil {
		return fail(err)
	}
	var inFile []string
	if s := f.Meta[KeyParts]; s != "" {
		inFile = strings.Split(s, ",")
	}
	if err := checkParamNames(params, inFile); err != nil {
		return fail(err)
	}
	if err := checkParams(f, params); err != nil {
		return fail(err)
	}
	if err := checkUnexpected(f, params, inFile, opts); err != nil {
		return fail(err)
	}

	for _, part := range names {
		if !slices.Contains(inFile, part) {
			return fail(fmt.Errorf("no %q state in the file (it has %s)", part, listOrNone(inFile)))
		}
		prefix := part + "/"
		state := make(map[string]*tensor.Tensor)
		for name, t := range f.Tensors {
			if key, ok := strings.CutPrefix(name, prefix); ok {
				state[key] = t
			}
		}
		if err := parts[part].SetState(state); err != nil {
			return fail(fmt.Errorf("restoring %q: %w", part, err))
		}
	}
	for _, p := range params {
		copy(p.Value.Data, f.Tensors[p.Name].Data)
	}
	return f.Meta, nil
}

// checkParams reports every missing or misshapen parameter at once, in
// model order, so one failed load shows the whole mismatch.
func checkParams(f *safetensors.File, params []*nn.Param) error {
	var problems []string
	for _, p := range params {
		t, ok := f.Tensors[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing tensor %q", p.Name))
		case !tensor.SameShape(t.Shape, p.Value.Shape) || len(p.Value.Data) != len(t.Data):
			problems = append(problems, fmt.Sprintf("tensor %q has shape %s, model wants %s",
				p.Name, tensor.ShapeString(t.Shape), tensor.ShapeString(p.Value.Shape)))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func checkUnexpected(f *safetensors.File, params []*nn.Param, parts []string, opts Options) error {
	if opts.AllowUnexpected {
		return nil
	}
	known := make(map[string]bool, len(params))
	for _, p := range params {
		known[p.Name] = true
	}
	var extra []string
	for _, name := range f.Names() {
		if known[name] {
			continue
		}
		part, _, found := strings.Cut(name, "/")
		if found && slices.Contains(parts, part) {
			continue
		}
		extra = append(extra, strconv.Quote(name))
	}
	if len(extra) > 0 {
		return fmt.Errorf("unexpected tensors not in the model: %s", strings.Join(extra, ", "))
	}
	return nil
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
