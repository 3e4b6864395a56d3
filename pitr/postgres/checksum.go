package postgres

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Checksum algorithms (pitr.TableSum.Algo). Each is a sum over rows, so it
// does not depend on row order, and equal tables give equal checksums.
const (
	// AlgoHashRecord sums hash_record_extended(row, 0) (PostgreSQL 14+);
	// it needs a hash function for every column type.
	AlgoHashRecord = "hash_record_extended"
	// AlgoMD5Text sums the first 60 bits of md5(row::text); any column type.
	AlgoMD5Text = "md5_text"
	// AlgoCopyFNV sums FNV-1a 64 over each line of COPY ... TO STDOUT
	// (computed by tidemark; used for table snapshots kept as files).
	AlgoCopyFNV = "copy_fnv64a"
)

// ChecksumSQL returns the (row count, checksum) query of a server-side algorithm.
func ChecksumSQL(qualified, algo string) string {
	if algo == AlgoHashRecord {
		return `SELECT count(*), coalesce(sum(hash_record_extended(t, 0)), 0)::text FROM ` + qualified + ` t`
	}
	return `SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text FROM ` + qualified + ` t`
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Checksum returns the row count and checksum of a table with algo. q is a
// pool, a connection or a transaction.
func Checksum(ctx context.Context, q querier, qualified, algo string) (int64, string, error) {
	if algo == AlgoCopyFNV {
		return withPgConn(ctx, q, func(pc *pgconn.PgConn) (int64, string, error) {
			var s LineSum
			if _, err := pc.CopyTo(ctx, &s, `COPY `+qualified+` TO STDOUT`); err != nil {
				return 0, "", fmt.Errorf("checksum %s: %w", qualified, err)
			}
			return s.Result()
		})
	}
	var n int64
	var sum string
	if err := q.QueryRow(ctx, ChecksumSQL(qualified, algo)).Scan(&n, &sum); err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", qualified, err)
	}
	return n, sum, nil
}

// serverChecksum tries AlgoHashRecord and falls back to AlgoMD5Text (in a
// savepoint, so the transaction survives) when a column type has no hash.
func serverChecksum(ctx context.Context, tx pgx.Tx, qualified string) (string, int64, string, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return "", 0, "", err
	}
	n, sum, err := Checksum(ctx, sp, qualified, AlgoHashRecord)
	if err == nil {
		return AlgoHashRecord, n, sum, sp.Commit(ctx)
	}
	if err := sp.Rollback(ctx); err != nil {
		return "", 0, "", err
	}
	n, sum, err = Checksum(ctx, tx, qualified, AlgoMD5Text)
	return AlgoMD5Text, n, sum, err
}

func withPgConn(ctx context.Context, q querier, fn func(*pgconn.PgConn) (int64, string, error)) (int64, string, error) {
	switch c := q.(type) {
	case pgx.Tx:
		return fn(c.Conn().PgConn())
	case *pgx.Conn:
		return fn(c.PgConn())
	case *pgxpool.Pool:
		pc, err := c.Acquire(ctx)
		if err != nil {
			return 0, "", err
		}
		defer pc.Release()
		return fn(pc.Conn().PgConn())
	}
	return 0, "", fmt.Errorf("checksum: unsupported connection type %T", q)
}

// LineSum is an io.Writer that checksums COPY text output line by line
// (AlgoCopyFNV).
type LineSum struct {
	n       int64
	sum     uint64
	partial []byte
}

func (s *LineSum) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			break
		}
		line := p[:i]
		if len(s.partial) > 0 {
			line = append(s.partial, line...)
			s.partial = s.partial[:0]
		}
		s.sum += fnv64a(line)
		s.n++
		p = p[i+1:]
	}
	return total, nil
}

func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Result returns the line count and checksum; a trailing partial line is an error.
func (s *LineSum) Result() (int64, string, error) {
	if len(s.partial) > 0 {
		return 0, "", fmt.Errorf("COPY data ends inside a row")
	}
	return s.n, strconv.FormatUint(s.sum, 16), nil
}

// SumReader checksums COPY text read from r.
func SumReader(r io.Reader) (int64, string, error) {
	var s LineSum
	if _, err := io.Copy(&s, r); err != nil {
		return 0, "", err
	}
	return s.Result()
}
