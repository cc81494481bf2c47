package main

import "io"

func runPrefs(args []string, stdout io.Writer) error {
	return dispatch("prefs", `Preference data for the Face Reward Model: pairs of candidate restorations
of one degraded face, and verdicts on them. People judge pairs in the
browser (`+"`facereward serve`"+`); the auto-labeller judges the rest.`, []subcommand{
		{"generate", "degrade faces, restore them several ways and store the candidate pairs", prefsGenerate},
		{"label", "label unjudged pairs automatically (a model fitted to the human verdicts, else a ground-truth rule)", prefsLabel},
		{"export", "write every verdict with its pair as JSONL", prefsExport},
		{"import", "add the verdicts of JSONL files to a database", prefsImport},
	}, args, stdout)
}
