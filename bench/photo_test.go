package bench

import (
	"regexp"
	"strings"
	"testing"
)

// Photo times each photo with its face count and sets the network's row
// against the PyTorch side's restore time.
func TestPhotoTimesAPortrait(t *testing.T) {
	if testing.Short() {
		t.Skip("restores a whole photo (seconds)")
	}
	o := fakeTorch(t, `{"torch":"9.9","restore_s":100,"peak_rss_mb":1}`)
	o.Iters, o.Warmup = 1, 0
	var out strings.Builder
	if err := Photo(PhotoOptions{Options: o, Photos: []string{"../testdata/faces/grace_hopper_512x512.jpg"}}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, re := range []string{
		`(?m)^grace_hopper_512x512\.jpg +512×512 +1 +\d+\.\d\ds +\d+\.\d\ds +\d+\.\d\ds$`,
		`all photos: \d+\.\d\d s per face \(1 faces\)`,
		`all photos in one pipelined run \(as restore\): \d+\.\d\d s, against \d+\.\d\d s one by one`,
		`CodeFormer +about 12 s per image`,
		`\| restore one face \(20 steps\) \| \d+\.\d{3} \| 100\.000 \| \d+\.\d\d× \|`,
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("output lacks %s:\n%s", re, s)
		}
	}
}
