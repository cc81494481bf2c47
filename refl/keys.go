package refl

import "facereward/train"

// Fields of a ReFL run's log.jsonl. Train writes them, the watch reads the
// dev-val passes back on resume, and WriteReport reads them all; one name
// each keeps the three in step.
const (
	// Every tenth step: the weighted total and its unweighted terms
	// (Terms), the gradient norm before clipping, and on steps that take
	// the dynamic FRM update its BT loss before the update.
	KeyLoss     = train.KeyLoss
	KeyReg      = "l_reg"
	KeyStruct   = "l_struct"
	KeyReward   = "l_reward"
	KeyPixel    = "l_pixel"
	KeyGradNorm = train.KeyGradNorm
	KeyFRMBT    = "frm_bt"

	// Every dev-val pass: the means over its faces (a NaN mean is left
	// out), the number of faces, and true when the pass is flagged as
	// reward hacking. KeyDevFRM marks an entry as a pass.
	KeyDevFRM     = "dev_frm"
	KeyDevPSNR    = train.KeyDevPSNR
	KeyDevSSIM    = train.KeyDevSSIM
	KeyDevIDS     = train.KeyDevIDS
	KeyDevLMD     = train.KeyDevLMD
	KeyDevBRISQUE = train.KeyDevBRISQUE
	KeyDevFaces   = "dev_faces"
	KeyHacking    = "hacking"
)
