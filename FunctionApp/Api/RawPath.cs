using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace FunctionApp.Api;

/// <summary>
/// Path segments exactly as the client sent them. ASP.NET Core decodes the path once but keeps <c>%2F</c> encoded,
/// so a route value could be decoded zero or two times depending on its characters; user ids may contain any of
/// them, so ids are taken from the raw request target and percent-decoded here, exactly once.
/// </summary>
internal static class RawPath
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The still percent-encoded path of the request, split on '/', without the leading empty segment.</summary>
    public static string[] Segments(HttpContext context)
    {
        var path = EncodedPath(context);
        return path.Length > 0 && path[0] == '/' ? path[1..].Split('/') : path.Split('/');
    }

    private static string EncodedPath(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget))
        {
            var end = rawTarget.AsSpan().IndexOfAny('?', '#');
            var path = end >= 0 ? rawTarget[..end] : rawTarget;
            if (path.StartsWith('/'))
            {
                return path;
            }

            // Absolute-form request target ("http://host/path"): keep its path, still escaped.
            if (Uri.TryCreate(path, UriKind.Absolute, out var absolute))
            {
                return absolute.GetComponents(UriComponents.Path | UriComponents.KeepDelimiter, UriFormat.UriEscaped);
            }
        }

        return (context.Request.PathBase + context.Request.Path).ToUriComponent();
    }

    /// <summary>
    /// Percent-decodes one segment as UTF-8, strictly: a '%' not followed by two hex digits, or bytes that are not
    /// UTF-8, make the segment invalid rather than being passed on half-decoded.
    /// </summary>
    public static bool TryDecodeSegment(string encoded, out string decoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (!encoded.Contains('%', StringComparison.Ordinal))
        {
            decoded = encoded;
            return true;
        }

        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !Uri.IsHexDigit(encoded[i + 1]) || !Uri.IsHexDigit(encoded[i + 2]))
                {
                    decoded = string.Empty;
                    return false;
                }

                bytes.Add((byte)((Uri.FromHex(encoded[i + 1]) << 4) | Uri.FromHex(encoded[i + 2])));
                i += 2;
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                // Not expected in a request target, but keep such characters as they are.
                var end = i;
                while (end < encoded.Length && encoded[end] >= 0x80)
                {
                    end++;
                }

                bytes.AddRange(Encoding.UTF8.GetBytes(encoded[i..end]));
                i = end - 1;
            }
        }

        try
        {
            decoded = StrictUtf8.GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            decoded = string.Empty;
            return false;
        }
    }
}
