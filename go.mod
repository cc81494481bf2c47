module facereward

go 1.26
