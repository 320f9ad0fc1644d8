//! The campaign report: reads the campaign's records from the store and
//! hands them to `ronda-report`, which computes every figure. Used by
//! `ronda report campaign`, `ronda demo` and the UI.

use ronda_report::{CampaignReport, ReportInput};
use ronda_store::{
    Campaign, Millis, ReferralFilter, ReferralKind, ReferralStatus, ReferralViewer, Store,
    StoreError,
};

/// The records of `campaign` as of `as_of`.
pub async fn campaign_input(
    store: &Store,
    campaign: &Campaign,
    as_of: Millis,
) -> Result<ReportInput, StoreError> {
    let platforms = store
        .list_platforms()
        .await?
        .into_iter()
        .filter_map(|p| {
            Some(ronda_report::Platform {
                id: p.id,
                kind: p.spec.kind.as_str().parse().ok()?,
                name: p.spec.name,
            })
        })
        .collect();
    let rows = store.report_items(campaign.id).await?;
    let liveness = rows
        .iter()
        .filter(|r| r.last_checked_at.is_some())
        .map(|r| ronda_report::Liveness {
            item_id: r.id,
            last_live_at: r.last_seen_live_at,
            first_removed_at: r.first_seen_removed_at,
            last_checked_at: r.last_checked_at,
        })
        .collect();
    let items = rows
        .into_iter()
        .map(|r| ronda_report::Item {
            id: r.id,
            url: r.url,
            organisation: r.org,
            platform_id: r.platform_id,
            group: r.group,
            content_key: r.blob_sha256,
            submitted_at: r.created_at,
            duplicate_of: r.duplicate_of,
            outlinks: Vec::new(),
        })
        .collect();
    let responses: std::collections::HashMap<i64, (Millis, Option<Millis>)> = store
        .report_responses(campaign.id)
        .await?
        .into_iter()
        .map(|r| (r.referral_id, (r.at, r.measure_at)))
        .collect();
    let mut referrals = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .list_referrals(
                &ReferralFilter {
                    campaign_id: Some(campaign.id),
                    after,
                    limit: 1000,
                    ..ReferralFilter::default()
                },
                ReferralViewer::Everyone,
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in page {
            let Some(status) = report_status(r.status) else {
                continue;
            };
            let response = responses.get(&r.id);
            referrals.push(ronda_report::Referral {
                id: r.id,
                item_id: r.item_id,
                platform_id: Some(r.platform_id),
                kind: match r.kind {
                    ReferralKind::Referral => ronda_report::ReferralKind::Referral,
                    ReferralKind::RemovalOrder => ronda_report::ReferralKind::RemovalOrder,
                },
                status,
                sent_at: r.sent_at,
                deadline: r
                    .order
                    .as_ref()
                    .and_then(|o| o.clock.as_ref())
                    .map(|c| c.last_deadline),
                responded_at: response.map(|(at, _)| *at),
                measure_at: response.and_then(|(_, m)| *m),
            });
        }
    }
    Ok(ReportInput {
        campaign: ronda_report::Campaign {
            id: campaign.id,
            name: campaign.name.clone(),
            starts_at: campaign.starts_at,
            ends_at: campaign.ends_at,
        },
        as_of,
        platforms,
        items,
        referrals,
        liveness,
    })
}

/// The report's name for a status; withdrawn referrals are left out.
fn report_status(s: ReferralStatus) -> Option<ronda_report::ReferralStatus> {
    use ronda_report::ReferralStatus as R;
    Some(match s {
        ReferralStatus::Draft => R::Draft,
        ReferralStatus::Sent => R::Sent,
        ReferralStatus::Acknowledged => R::Acknowledged,
        ReferralStatus::Removed => R::Removed,
        ReferralStatus::NotRemoved => R::NotRemoved,
        ReferralStatus::Disputed => R::Disputed,
        ReferralStatus::Impossible => R::Impossible,
        ReferralStatus::Withdrawn => return None,
    })
}

/// Computes the report of `campaign` as of `as_of`.
pub async fn campaign_report(
    store: &Store,
    campaign: &Campaign,
    as_of: Millis,
) -> Result<CampaignReport, StoreError> {
    Ok(ronda_report::compute(
        &campaign_input(store, campaign, as_of).await?,
    ))
}
