module facereward

go 1.26.0

require (
	github.com/esimov/pigo v1.4.6
	golang.org/x/image v0.48.0
)
