using System.Text.RegularExpressions;
using Gardien.Local.Tests.Hosting;
using Gardien.Testing;
using Gardien.Workflows.Http;
using Microsoft.Playwright;

namespace Gardien.Local.Tests.Serve;

/// <summary>
/// The pages in a real browser: Debian's chromium driven by Playwright, headless, never a downloaded browser. Each page
/// visited is saved as a screenshot in the test output (<c>screenshots/</c> beside the test assembly).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ServeBrowserTests(AzuriteFixture fixture)
{
    private const string Chromium = "/usr/bin/chromium";

    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task Inbox_FollowingEachCardsApproveLink_AndApprovingWithAComment_MakesTheDashboardShowTheDmpActive()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);
        using (await serve.SubmitAsync())
        {
        }

        await serve.WaitForOpenRequestsAsync(3);
        await using var browser = await BrowserAsync();
        var page = await browser.Browser.NewPageAsync();
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < 3; round++)
        {
            await page.GotoAsync(serve.Service.InboxUrl.AbsoluteUri);
            if (round == 0)
            {
                await Assertions.Expect(page.Locator("article.card.unread").First).ToBeVisibleAsync();
                await ShotAsync(page, "inbox");
            }

            var approve = await NextLinkAsync(page, "Approve", used);
            await approve.ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Approve the request");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "What will be provisioned" })).ToBeVisibleAsync();
            if (round == 0)
            {
                await ShotAsync(page, "approval-page");
            }

            await page.GetByLabel(new Regex("^Comment")).FillAsync($"Approved in the browser (round {round + 1}).");
            await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Decision recorded");
            if (round == 0)
            {
                await ShotAsync(page, "approval-recorded");
            }
        }

        await serve.WaitForDmpAsync(d => d.GetProperty("dmp").GetProperty("state").GetString() == "Active");
        await page.GotoAsync(serve.Service.DashboardUrl.AbsoluteUri);
        await Assertions.Expect(page.GetByText("Active: 1")).ToBeVisibleAsync();
        var dmp = await serve.DmpAsync();
        foreach (var dataset in dmp.GetProperty("datasets").EnumerateArray())
        {
            await Assertions.Expect(page.GetByText(dataset.GetProperty("container").GetString()!,
                new() { Exact = true })).ToBeVisibleAsync();
        }

        await Assertions.Expect(page.GetByText("u-claire-dubois: owner").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("No approval is awaited.")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("svg[role=img]")).ToBeVisibleAsync();
        await ShotAsync(page, "dashboard-active");
    }

    [Fact]
    public async Task Reject_WithTheKeyboardOnly_RecordsTheRejection_AndTheDashboardShowsTheDmpRejected()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);
        using (await serve.SubmitAsync())
        {
        }

        await serve.WaitForOpenRequestsAsync(3);
        await using var browser = await BrowserAsync();
        var page = await browser.Browser.NewPageAsync();
        await page.GotoAsync(serve.Service.InboxUrl.AbsoluteUri);
        await (await NextLinkAsync(page, "Reject", [])).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Reject the request");

        await page.GetByLabel(new Regex("^Comment")).FocusAsync();
        await page.Keyboard.TypeAsync("The consent form does not cover the <b>atlas</b>.");
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Reject" })).ToBeFocusedAsync();
        await ShotAsync(page, "reject-page");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Decision recorded");

        var rejected = await serve.WaitForDmpAsync(d => d.GetProperty("dmp").GetProperty("state").GetString() == "Rejected");
        Assert.Contains(rejected.GetProperty("approvals").EnumerateArray(),
            a => a.GetProperty("comment").GetString() == "The consent form does not cover the <b>atlas</b>.");
        await page.GotoAsync(serve.Service.DashboardUrl.AbsoluteUri);
        await Assertions.Expect(page.GetByText("Rejected: 1")).ToBeVisibleAsync();
        await ShotAsync(page, "dashboard-rejected");
    }

    [Fact]
    public async Task ForgedLink_GetsAClearPage_AndTheDashboardSpeaksFrench()
    {
        using var sandbox = new LocalHostSandbox(fixture);
        await using var serve = await ServeHarness.StartAsync(sandbox);
        await using var browser = await BrowserAsync();
        var page = await browser.Browser.NewPageAsync();

        var response = await page.GotoAsync(new Uri(serve.Service.Url,
            $"{GardienRoutes.Approvals}/eyJmb3JnZWQiOnRydWV9.Zm9yZ2Vk?decision=approve").AbsoluteUri);

        Assert.Equal(400, response!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("This approval link cannot be used");
        await Assertions.Expect(page.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await ShotAsync(page, "forged-link");

        await page.GotoAsync(serve.Service.DashboardUrl.AbsoluteUri + "?lang=fr");
        await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "fr");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Tableau de bord de la gouvernance");
        await ShotAsync(page, "dashboard-fr");
    }

    /// <summary>The first card link with this label whose URL was not followed yet.</summary>
    private static async Task<ILocator> NextLinkAsync(IPage page, string label, HashSet<string> used)
    {
        var links = page.Locator("article.card").GetByRole(AriaRole.Link, new() { Name = label, Exact = true });
        for (var i = 0; i < await links.CountAsync(); i++)
        {
            var href = await links.Nth(i).GetAttributeAsync("href");
            if (href is not null && used.Add(href))
            {
                return links.Nth(i);
            }
        }

        throw new InvalidOperationException($"The inbox shows no {label} link not followed yet.");
    }

    private static async Task ShotAsync(IPage page, string name)
    {
        System.IO.Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }

    private static async Task<BrowserSession> BrowserAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"Debian's chromium is not installed at {Chromium}: run 'apt-get install -y chromium' "
                + $"(.ci/run does it).");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run"],
        });
        return new BrowserSession(playwright, browser);
    }

    private sealed class BrowserSession(IPlaywright playwright, IBrowser browser) : IAsyncDisposable
    {
        public IBrowser Browser => browser;

        public async ValueTask DisposeAsync()
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }
}
