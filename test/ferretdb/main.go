package main

import "github.com/FerretDB/FerretDB/ferretdb"

var _ = ferretdb.New

func main() {}
