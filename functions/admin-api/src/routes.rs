//! The Router: which path goes to which handler, and the state they share.
//!
//! Every route is registered through [`routes!`], from the handlers' `#[utoipa::path]`
//! annotations, so the Router and the OpenAPI document come from one list. Everything under
//! `/api/admin` is behind `require_token`.
//!
//! The document is not built with the Router: the Lambda builds the Router at cold start, and
//! building every operation (and its schemas) cost about as much CPU as the rest of the start.
//! [`router`] registers each handler with only its path and methods; the first
//! `GET /api/openapi.json` assembles the same list again with the operations
//! ([`openapi_document`]).

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use crm_store::clock::Clock;
use crm_store::repo::crm::{AuditRepo, ContactRepo};
use crm_store::repo::{BehaviorRepo, SiteRepo};
use crm_store::table::Table;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::auth::{TokenVerifier, require_token};
use crate::error::ApiError;
use crate::openapi::{self, ApiDoc};
use crate::{audit, behavior, contacts, sales, sites};

/// Everything the handlers need, built once per process. The Router clones it into every route
/// as it is built, so a clone is one shared pointer; the fields are read through it.
#[derive(Clone)]
pub struct AdminState(Arc<AdminDeps>);

/// What [`AdminState`] shares.
pub struct AdminDeps {
    pub table: Arc<dyn Table>,
    pub behavior: BehaviorRepo,
    pub sites: SiteRepo,
    pub audit: AuditRepo,
    pub contacts: ContactRepo,
    pub tokens: TokenVerifier,
    pub clock: Arc<dyn Clock>,
}

impl AdminState {
    pub fn new(table: Arc<dyn Table>, tokens: TokenVerifier, clock: Arc<dyn Clock>) -> AdminState {
        AdminState(Arc::new(AdminDeps {
            behavior: BehaviorRepo::new(table.clone()),
            sites: SiteRepo::new(table.clone()),
            audit: AuditRepo::new(table.clone()),
            contacts: ContactRepo::new(table.clone()),
            table,
            tokens,
            clock,
        }))
    }
}

impl Deref for AdminState {
    type Target = AdminDeps;

    fn deref(&self) -> &AdminDeps {
        &self.0
    }
}

/// What registering a route does with its OpenAPI operation: [`Documented`] builds it (and the
/// schemas it refers to) in utoipa-axum's [`OpenApiRouter`]; [`Undocumented`] reads only the path
/// and methods of its `#[utoipa::path]` and fills a plain axum [`Router`], the very Router the
/// `OpenApiRouter` holds. A type, not a value, so the Lambda's binary holds only what it calls.
pub trait Operations {
    type Router;

    fn new() -> Self::Router;

    fn routes(
        router: Self::Router,
        documented: impl FnOnce() -> UtoipaMethodRouter<AdminState>,
        undocumented: impl FnOnce() -> UndocumentedRoutes,
    ) -> Self::Router;

    fn nest(router: Self::Router, path: &str, nested: Self::Router) -> Self::Router;
}

/// The paths of one `routes!` and the handlers for their methods.
pub type UndocumentedRoutes = (Vec<String>, MethodRouter<AdminState>);

/// For the document.
pub enum Documented {}

/// For serving.
pub enum Undocumented {}

impl Operations for Documented {
    type Router = OpenApiRouter<AdminState>;

    fn new() -> OpenApiRouter<AdminState> {
        OpenApiRouter::with_openapi(ApiDoc::openapi())
    }

    fn routes(
        router: OpenApiRouter<AdminState>,
        documented: impl FnOnce() -> UtoipaMethodRouter<AdminState>,
        _: impl FnOnce() -> UndocumentedRoutes,
    ) -> OpenApiRouter<AdminState> {
        router.routes(documented())
    }

    fn nest(
        router: OpenApiRouter<AdminState>,
        path: &str,
        nested: OpenApiRouter<AdminState>,
    ) -> OpenApiRouter<AdminState> {
        router.nest(path, nested)
    }
}

/// What `OpenApiRouter::routes` and `::nest` do to their axum Router, without the document (whose
/// path items, a few KiB each, took most of the Router's start-up memory).
impl Operations for Undocumented {
    type Router = Router<AdminState>;

    fn new() -> Router<AdminState> {
        Router::new()
    }

    fn routes(
        router: Router<AdminState>,
        _: impl FnOnce() -> UtoipaMethodRouter<AdminState>,
        undocumented: impl FnOnce() -> UndocumentedRoutes,
    ) -> Router<AdminState> {
        let (paths, mut methods) = undocumented();
        let last = paths.len().saturating_sub(1);
        paths
            .iter()
            .enumerate()
            .fold(router, |router, (index, path)| {
                let path = if path.is_empty() { "/" } else { path };
                // Every path of the group gets every method, as `OpenApiRouter::routes` does; the
                // last one takes the handlers themselves.
                let methods = if index == last {
                    std::mem::take(&mut methods)
                } else {
                    methods.clone()
                };
                router.route(path, methods)
            })
    }

    fn nest(
        router: Router<AdminState>,
        path: &str,
        nested: Router<AdminState>,
    ) -> Router<AdminState> {
        router.nest(path, nested)
    }
}

/// Routes registered with or without their OpenAPI operations.
pub struct ApiRouter<O: Operations> {
    inner: O::Router,
}

impl<O: Operations> ApiRouter<O> {
    pub fn new() -> ApiRouter<O> {
        ApiRouter { inner: O::new() }
    }

    /// Adds the handlers of one path, as given by [`routes!`].
    pub fn routes<D, U>(self, (documented, undocumented): (D, U)) -> ApiRouter<O>
    where
        D: FnOnce() -> UtoipaMethodRouter<AdminState>,
        U: FnOnce() -> UndocumentedRoutes,
    {
        self.map(|inner| O::routes(inner, documented, undocumented))
    }

    fn map(self, change: impl FnOnce(O::Router) -> O::Router) -> ApiRouter<O> {
        ApiRouter {
            inner: change(self.inner),
        }
    }
}

/// The handlers of one path, for [`ApiRouter::routes`]: utoipa-axum's `routes!` when the
/// operations are built; otherwise the paths and methods of the handlers' `#[utoipa::path]`, each
/// method routed to its handler.
macro_rules! routes {
    (@next $paths:ident $router:expr; [$($prefix:tt)*] $segment:ident :: $($rest:tt)+) => {
        $crate::routes::routes!(@next $paths $router; [$($prefix)* $segment ::] $($rest)+)
    };
    (@next $paths:ident $router:expr; [$($prefix:tt)*] $handler:ident $(, $($rest:tt)*)?) => {
        $crate::routes::routes!(
            @next $paths $crate::routes::routes!(@one $paths $router; [$($prefix)*] $handler);
            [] $($($rest)*)?
        )
    };
    (@next $paths:ident $router:expr; []) => {
        $router
    };
    (@one $paths:ident $router:expr; [$($prefix:tt)*] $handler:ident) => {{
        use ::utoipa_axum::PathItemExt as _;
        type Annotated = ::utoipa_axum::paste!($($prefix)* [<__path_ $handler>]);
        let path = <Annotated as ::utoipa::Path>::path();
        if !$paths.contains(&path) {
            $paths.push(path);
        }
        <Annotated as ::utoipa::Path>::methods()
            .iter()
            .fold($router, |router, method| {
                router.on(method.to_method_filter(), $($prefix)* $handler)
            })
    }};
    ($($handlers:tt)+) => {
        (
            || ::utoipa_axum::routes!($($handlers)+),
            || {
                let mut paths = ::std::vec::Vec::new();
                let router = $crate::routes::routes!(
                    @next paths ::axum::routing::MethodRouter::new(); [] $($handlers)+
                );
                (paths, router)
            },
        )
    };
}
pub(crate) use routes;

/// The routes under `/api/admin`.
fn admin_routes<O: Operations>() -> ApiRouter<O> {
    contacts::register(sales::register(ApiRouter::new()))
        .routes(routes!(behavior::dashboard))
        .routes(routes!(behavior::list_visitors))
        .routes(routes!(behavior::get_visitor))
        .routes(routes!(behavior::get_session))
        .routes(routes!(behavior::list_friction_points))
        .routes(routes!(behavior::resolve_friction_point))
        .routes(routes!(behavior::list_intent_signals))
        .routes(routes!(sites::list_sites, sites::create_site))
        .routes(routes!(
            sites::get_site,
            sites::replace_site,
            sites::patch_site,
            sites::delete_site
        ))
        .routes(routes!(audit::list_audit))
}

/// Every route: `/health`, `/api/openapi.json` and, nested under `/api/admin` after `protect`,
/// the admin routes.
fn api<O: Operations>(protect: impl FnOnce(O::Router) -> O::Router) -> O::Router {
    let admin = admin_routes::<O>().map(protect).inner;
    ApiRouter::<O>::new()
        .routes(routes!(health))
        .routes(routes!(openapi::openapi_json))
        .map(|router| O::nest(router, "/api/admin", admin))
        .inner
}

/// `/health`, `/api/openapi.json` and everything under `/api/admin` (behind a bearer token).
pub fn router(state: AdminState) -> Router {
    let protect = |admin: Router<AdminState>| {
        admin
            .fallback(unknown_route)
            .route_layer(from_fn_with_state(state.clone(), require_token))
    };
    api::<Undocumented>(protect)
        .with_state(state)
        .layer(map_response(method_not_allowed_as_json))
}

/// The OpenAPI document of every route, as JSON.
pub fn openapi_document() -> String {
    let (_, document) = api::<Documented>(|admin| admin).split_for_parts();
    document.to_json().unwrap_or_default()
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    security(()),
    responses((status = 200, description = "the process is up", body = crate::openapi::Envelope))
)]
async fn health() -> Response {
    crate::envelope::ok(serde_json::json!({ "status": "ok" }))
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}

/// axum answers a known path with an unknown method by an empty 405; give it the envelope.
async fn method_not_allowed_as_json(response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        return ApiError::MethodNotAllowed("this route does not accept that method".to_owned())
            .into_response();
    }
    response
}
