// Package examples shows stampfs inside common Go web frameworks.
package examples

import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/go-chi/chi/v5"
	_ "github.com/labstack/echo/v4"
	_ "github.com/stampfs/stampfs"
)
