//go:build gen

// With -tags gen (bench/gopclntab.py), the generated packages are linked too.
package main

import "gobiggen/all"

func init() {
	everything = append(everything, all.Funcs)
}
