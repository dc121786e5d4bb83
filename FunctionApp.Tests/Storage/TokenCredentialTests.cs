using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using FunctionApp.Storage.Http;
using FunctionApp.Storage.Tables;
using FunctionApp.Tests.Infrastructure;

namespace FunctionApp.Tests.Storage;

/// <summary>
/// The Microsoft Entra path against Azurite's OAuth mode: Azurite over HTTPS with a certificate made here, checking
/// each bearer token's audience, issuer and lifetime (it does not verify signatures, so a test can mint tokens).
/// </summary>
public sealed class OAuthAzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;
    private X509Certificate2? _certificate;
    private string? _folder;

    public AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite has not started.");
    public X509Certificate2 Certificate => _certificate ?? throw new InvalidOperationException("No certificate yet.");

    public async Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("azurite-oauth-").FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(_folder, "cert.pem");
        var keyPath = Path.Combine(_folder, "key.pem");
        await File.WriteAllTextAsync(certPath, _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        _azurite = await AzuriteProcess.StartAsync(["--oauth", "basic", "--cert", certPath, "--key", keyPath]);
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        _certificate?.Dispose();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

}

public sealed class TokenCredentialTests(OAuthAzuriteFixture fixture) : IClassFixture<OAuthAzuriteFixture>
{
    private AzuriteProcess Azurite => fixture.Azurite;

    private TableClient NewTable(TokenCredential credential)
    {
        var thumbprint = fixture.Certificate.Thumbprint;
#pragma warning disable CA2000 // The transport owns the handler for the client's lifetime.
        var handler = new HttpClientHandler
        {
            // Trust exactly the certificate this test made, nothing else.
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint,
        };
#pragma warning restore CA2000
        var options = new StorageClientOptions { Transport = new HttpClientTransport(handler) };
        var account = new StorageAccount(null, null, Azurite.TableEndpoint, credential);
        return new TableServiceClient(account, options).GetTableClient("t" + Guid.NewGuid().ToString("N")[..12]);
    }

    [Fact]
    public async Task The_table_client_authenticates_with_a_token_credential()
    {
        var credential = new MintingCredential(TimeSpan.FromHours(1));
        var table = NewTable(credential);

        Assert.True(await table.CreateIfNotExistsAsync());
        await table.AddEntityAsync(new TableEntity("p", "r") { ["V"] = 1 });
        await table.SubmitTransactionAsync([new(TableTransactionActionType.UpsertMerge, new TableEntity("p", "r") { ["W"] = 2 })]);
        var read = await table.GetEntityAsync("p", "r");

        Assert.Equal((1, 2), (read!.GetInt32("V"), read.GetInt32("W")));
        Assert.Equal(["https://storage.azure.com/.default"], credential.RequestedScopes.Distinct());
        Assert.StartsWith("https://", Azurite.TableEndpoint.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var table = NewTable(new MintingCredential(TimeSpan.FromHours(-1)));
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => table.CreateIfNotExistsAsync());
        Assert.Equal(403, error.Status);
        Assert.Equal("AuthenticationFailed", error.ErrorCode);
    }

    /// <summary>Mints unsigned JWTs with Azure Storage's audience and an Entra issuer, as Azurite's basic OAuth check expects.</summary>
    private sealed class MintingCredential(TimeSpan lifetime) : TokenCredential
    {
        public List<string> RequestedScopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (RequestedScopes)
            {
                RequestedScopes.AddRange(requestContext.Scopes);
            }

            var now = DateTimeOffset.UtcNow;
            var expires = now + lifetime;
            var claims = new Dictionary<string, object>
            {
                ["aud"] = "https://storage.azure.com",
                ["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
                ["iat"] = now.AddMinutes(-5).ToUnixTimeSeconds() + (lifetime < TimeSpan.Zero ? lifetime.TotalSeconds * 2 : 0),
                ["nbf"] = now.AddMinutes(-5).ToUnixTimeSeconds() + (lifetime < TimeSpan.Zero ? lifetime.TotalSeconds * 2 : 0),
                ["exp"] = expires.ToUnixTimeSeconds(),
                ["oid"] = "00000000-0000-0000-0000-000000000001",
            };
            static string Encode(object value) =>
                Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var token = $"{Encode(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" })}.{Encode(claims)}.{Encode("unsigned")}";
            // Azure.Core caches the token until shortly before expiry; an expired one is still sent once.
            return new AccessToken(token, lifetime < TimeSpan.Zero ? now.AddMinutes(10) : expires);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
