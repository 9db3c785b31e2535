fn main(){ oauth_desk_app::run() }
