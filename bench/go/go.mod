module xchan/bench/go

go 1.21
