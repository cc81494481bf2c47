package reward

import (
	"fmt"
	"io"

	"facereward/dataset"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// ScoreFiles prints the score of the FRM model (a file or run folder; ""
// for the built-in one) of every image of paths (files, or folders
// searched recursively), one "score<TAB>path" line each. Images of another
// size than the model's are resized to it, area-averaged when shrinking.
func ScoreFiles(model string, paths []string, w io.Writer) error {
	frm, err := LoadOrBuiltin(model)
	if err != nil {
		return err
	}
	inputs, err := dataset.Inputs(paths)
	if err != nil {
		return err
	}
	s := frm.Config.ImageSize
	for _, in := range inputs {
		img, err := imageio.Read(in.Path)
		if err != nil {
			return fmt.Errorf("reward score: %w", err)
		}
		if img.Shape[0] != s || img.Shape[1] != s {
			img = imgproc.Resize(img, s, s, imgproc.Area)
		}
		score := frm.Score(tensor.FromSlice(img.Data, 1, s, s, 3), 1)[0]
		fmt.Fprintf(w, "%.4f\t%s\n", score, in.Path)
	}
	return nil
}
