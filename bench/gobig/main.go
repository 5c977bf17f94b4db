// bench/gobig: a large Go binary (~40 MB) for bench/gopclntab.py.
//
// It links much of the standard library and, by calling methods by a name
// known only at run time (reflect's MethodByName), keeps every exported
// method of every type it reaches: the linker's dead-code elimination
// keeps what a big service keeps.  It is never run for its output.
package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/bzip2"
	"compress/flate"
	"compress/gzip"
	"compress/lzw"
	"compress/zlib"
	"crypto/aes"
	"crypto/des"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"debug/plan9obj"
	"encoding/asn1"
	"encoding/base32"
	"encoding/csv"
	"encoding/gob"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"expvar"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/doc"
	"go/format"
	"go/importer"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"hash/crc64"
	"html/template"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"index/suffixarray"
	"log/syslog"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/cgi"
	"net/http/cookiejar"
	"net/http/fcgi"
	"net/http/httptest"
	"net/http/httputil"
	"net/http/pprof"
	"net/mail"
	"net/rpc"
	"net/rpc/jsonrpc"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"runtime/trace"
	"testing"
	"testing/fstest"
	"text/scanner"
	"text/tabwriter"
	ttemplate "text/template"
	"time"
)

var everything = []any{
	tar.NewReader, zip.NewReader, bufio.NewReader, bzip2.NewReader, flate.NewReader,
	gzip.NewReader, lzw.NewReader, zlib.NewReader, aes.NewCipher, des.NewCipher,
	ecdsa.Sign, ed25519.Sign, hmac.New, rsa.EncryptOAEP, sha512.New, tls.Dial,
	x509.ParseCertificate, sql.Open, buildinfo.ReadFile, dwarf.New, elf.Open, gosym.NewTable,
	macho.Open, pe.Open, plan9obj.Open, asn1.Marshal, base32.NewEncoding, csv.NewReader,
	gob.NewDecoder, json.Marshal, pem.Decode, xml.Marshal, expvar.NewMap, flag.Parse,
	ast.Print, build.Import, constant.MakeInt64, doc.New, format.Source, importer.Default,
	parser.ParseFile, printer.Fprint, token.NewFileSet, types.NewPackage, crc64.New,
	template.New, image.NewRGBA, draw.Draw, gif.Decode, jpeg.Decode, png.Decode,
	suffixarray.New, syslog.New, big.NewInt, multipart.NewReader, http.ListenAndServe,
	cgi.Serve, cookiejar.New, fcgi.Serve, httptest.NewServer, httputil.DumpRequest,
	pprof.Index, mail.ParseAddress, rpc.NewServer, jsonrpc.NewClient, smtp.Dial,
	textproto.NewReader, exec.Command, regexp.MustCompile, trace.Start, testing.Benchmark,
	fstest.TestFS, scanner.Scanner{}, tabwriter.NewWriter, ttemplate.New, time.Now,
	&types.Config{}, &http.Server{}, &tls.Config{}, &x509.Certificate{}, &ast.File{},
	&sql.DB{}, &template.Template{}, &big.Float{}, &elf.File{}, &dwarf.Data{},
}

func main() {
	if len(os.Args) < 2 {
		fmt.Println(len(everything))
		return
	}
	for _, v := range everything {
		if m := reflect.ValueOf(v).MethodByName(os.Args[1]); m.IsValid() {
			fmt.Println(m.Type())
		}
	}
}
