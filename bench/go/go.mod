module libwire/benchgo

go 1.19
