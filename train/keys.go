package train

// Fields of a training run's log.jsonl, one name each for whatever writes
// and reads them (refl's keys reuse the shared ones).
const (
	// Every Loop report: the loss its step returned, the learning rate and
	// the speed since the run (re)started.
	KeyLoss      = "loss"
	KeyLR        = "lr"
	KeyStepsPerS = "steps_per_s"
	// The gradient norm before clipping (Session.Update).
	KeyGradNorm = "grad_norm"

	// A restorer stage's dev-val pass: the means over its faces, and the
	// number of faces the landmark net placed on both sides (LMD's count).
	KeyDevPSNR     = "dev_psnr"
	KeyDevSSIM     = "dev_ssim"
	KeyDevIDS      = "dev_ids"
	KeyDevLMD      = "dev_lmd"
	KeyDevLMDFaces = "dev_lmd_faces"
	KeyDevBRISQUE  = "dev_brisque"

	// Stage 2's detail terms (unweighted) and its discriminator: hinge loss
	// and mean logits on the ground truth and on x0_hat.
	KeyDiffusion = "l_diffusion"
	KeyAdv       = "l_adv"
	KeyID        = "l_id"
	KeyFeat      = "l_feat"
	KeyDiscLoss  = "d_loss"
	KeyDiscReal  = "d_real"
	KeyDiscFake  = "d_fake"
	// The component critic's term and step (DetailOptions.Comp).
	KeyAdvComp      = "l_adv_comp"
	KeyCompDiscLoss = "dc_loss"
	KeyCompDiscReal = "dc_real"
	KeyCompDiscFake = "dc_fake"

	// The reward model: accuracy on the step's batch, and on the held-out
	// pairs with their mean BT loss and count.
	KeyBatchAcc = "batch_acc"
	KeyValAcc   = "val_acc"
	KeyValLoss  = "val_loss"
	KeyValPairs = "val_pairs"
)
