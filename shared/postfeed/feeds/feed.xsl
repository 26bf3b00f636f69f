<?xml version="1.0" encoding="UTF-8"?>
<!--
  postfeed: shows an Atom 1.0 or RSS 2.0 feed (subscription or RFC 5005 archive document) as a page.
  Feed readers ignore this; browsers apply it through the feed's <?xml-stylesheet?> instruction.
  XSLT 1.0 only (what browsers implement). No script, no external resources.
-->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:fh="http://purl.org/syndication/history/1.0"
  exclude-result-prefixes="atom fh">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="atom:feed"><xsl:apply-templates select="atom:feed"/></xsl:when>
      <xsl:when test="rss/channel"><xsl:apply-templates select="rss/channel"/></xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- One page layout for both formats; the format templates below pass it what they read. -->
  <xsl:template name="page">
    <xsl:param name="title"/>
    <xsl:param name="subtitle"/>
    <xsl:param name="self"/>
    <xsl:param name="home"/>
    <xsl:param name="page"/>
    <xsl:param name="current"/>
    <xsl:param name="older"/>
    <xsl:param name="newer"/>
    <xsl:param name="archive"/>
    <xsl:param name="entries"/>
    <xsl:param name="lang"/>
    <html lang="{$lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
          body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa;margin:0}
          main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}
          header.feed{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:1.2rem 1.4rem;margin-bottom:1.5rem}
          h1{font-size:1.6rem;margin:.2rem 0 .4rem}
          .about{color:#57606a;margin:.3rem 0 1rem}
          .subscribe{background:#eef6ff;border:1px solid #b6d4fe;border-radius:8px;padding:.8rem 1rem}
          .subscribe code{display:block;word-break:break-all;font-size:.95rem;margin-top:.3rem;user-select:all}
          .archive-note{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:.6rem 1rem;margin-top:1rem}
          nav.pages{display:flex;justify-content:space-between;margin:1rem 0}
          article{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:1rem 1.4rem;margin:0 0 1rem}
          article h2{font-size:1.15rem;margin:0 0 .3rem}
          article time{color:#57606a;font-size:.9rem}
          article p{margin:.5rem 0 0}
          a{color:#0969da}
        </style>
      </head>
      <body>
        <main>
          <header class="feed">
            <h1 id="feed-title"><xsl:value-of select="$title"/></h1>
            <xsl:if test="string($subtitle)"><p class="about"><xsl:value-of select="$subtitle"/></p></xsl:if>
            <div class="subscribe">
              <strong>This is a web feed.</strong> Subscribe by copying this URL into your feed reader:
              <code id="subscribe-url"><xsl:value-of select="$self"/></code>
            </div>
            <xsl:if test="$archive">
              <p class="archive-note">
                This page is an archive of older entries.
                <xsl:if test="string($current)">
                  The live feed is <a id="current-feed" href="{$current}"><xsl:value-of select="$current"/></a>.
                </xsl:if>
              </p>
            </xsl:if>
            <xsl:if test="string($page)"><p><a id="feed-page" href="{$page}">Read this feed as a web page →</a></p></xsl:if>
            <xsl:if test="string($home)"><p><a href="{$home}">Visit the website →</a></p></xsl:if>
          </header>
          <xsl:copy-of select="$entries"/>
          <nav class="pages">
            <span><xsl:if test="string($older)"><a id="older" rel="prev-archive" href="{$older}">← Older entries</a></xsl:if></span>
            <span><xsl:if test="string($newer)"><a id="newer" rel="next-archive" href="{$newer}">Newer entries →</a></xsl:if></span>
          </nav>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:feed">
    <xsl:call-template name="page">
      <xsl:with-param name="title" select="atom:title"/>
      <xsl:with-param name="subtitle" select="atom:subtitle"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="atom:link[@rel='related']/@href | atom:link[@rel='alternate'][not(../atom:link[@rel='related'])]/@href"/>
      <xsl:with-param name="page" select="atom:link[@rel='alternate'][../atom:link[@rel='related']]/@href"/>
      <xsl:with-param name="current" select="atom:link[@rel='current']/@href"/>
      <xsl:with-param name="older" select="atom:link[@rel='prev-archive']/@href"/>
      <xsl:with-param name="newer" select="atom:link[@rel='next-archive']/@href"/>
      <xsl:with-param name="archive" select="boolean(fh:archive)"/>
      <xsl:with-param name="lang" select="@xml:lang"/>
      <xsl:with-param name="entries">
        <xsl:for-each select="atom:entry">
          <article class="entry">
            <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
            <time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/>
              <xsl:text> </xsl:text><xsl:value-of select="substring(atom:published, 12, 5)"/></time>
            <xsl:if test="string(atom:summary)"><p><xsl:value-of select="atom:summary"/></p></xsl:if>
          </article>
        </xsl:for-each>
        <xsl:if test="not(atom:entry)"><p>No entries yet.</p></xsl:if>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="channel">
    <xsl:call-template name="page">
      <xsl:with-param name="title" select="title"/>
      <xsl:with-param name="subtitle" select="description[. != ../title]"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="link"/>
      <xsl:with-param name="page" select="atom:link[@rel='alternate']/@href"/>
      <xsl:with-param name="current" select="atom:link[@rel='current']/@href"/>
      <xsl:with-param name="older" select="atom:link[@rel='prev-archive']/@href"/>
      <xsl:with-param name="newer" select="atom:link[@rel='next-archive']/@href"/>
      <xsl:with-param name="archive" select="boolean(fh:archive)"/>
      <xsl:with-param name="lang" select="language"/>
      <xsl:with-param name="entries">
        <xsl:for-each select="item">
          <article class="entry">
            <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
            <time><xsl:value-of select="pubDate"/></time>
            <xsl:if test="string(description) and not(starts-with(normalize-space(description), '&lt;'))">
              <p><xsl:value-of select="description"/></p>
            </xsl:if>
          </article>
        </xsl:for-each>
        <xsl:if test="not(item)"><p>No entries yet.</p></xsl:if>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>
</xsl:stylesheet>
